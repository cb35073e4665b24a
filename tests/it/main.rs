//! End-to-end tests: real agents, collector and simulated worlds on
//! loopback, driven over their real protocols. One test binary for the
//! whole workspace keeps link time down.

mod binaries;
mod cli_timeouts;
mod dashboard;
mod dogstatsd;
mod faults;
mod flag_file_kinds;
mod flags_agent;
mod flags_client;
mod http_limits;
mod kill_switches;
mod mitigations;
mod ofrep_python;
mod pipeline;
mod restart;
mod support;
mod webhook;
