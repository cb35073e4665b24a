//! End-to-end tests: real agents, collector and simulated worlds on
//! loopback, driven over their real protocols. One test binary for the
//! whole workspace keeps link time down.

mod agent_metrics;
mod bad_input;
mod binaries;
mod dashboard;
mod dead_letters;
mod demo;
mod dogstatsd;
mod faults;
mod flags_agent;
mod flags_client;
mod kill_switches;
mod mitigations;
mod nonfinite;
mod notifier_names;
mod ofrep_python;
mod pipeline;
mod report_sink;
mod restart;
mod support;
mod webhook;
