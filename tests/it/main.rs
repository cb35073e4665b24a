//! End-to-end tests: real agents, collector and simulated worlds on
//! loopback, driven over their real protocols. One test binary for the
//! whole workspace keeps link time down.

mod agent_metrics;
mod alertmanager;
mod bad_input;
mod binaries;
mod channels;
mod chat;
mod cli_timeouts;
mod command_line;
mod comms;
mod dashboard;
mod dead_letters;
mod demo;
mod dogstatsd;
mod faults;
mod flag_file_kinds;
mod flags_agent;
mod flags_client;
mod http_limits;
mod incidents;
mod kill_switches;
mod mitigations;
mod nonfinite;
mod notifier_names;
mod ofrep_python;
mod oncall;
mod paging;
mod pipeline;
mod public_url;
mod report_sink;
mod restart;
mod rollback;
mod snapshots;
mod status_page;
mod support;
mod webhook;
