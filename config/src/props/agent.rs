//! Known-good agent files read back as written, and one bad value
//! reported on its own line.

use super::*;

/// The change a `key = value` line makes to the defaults.
type Pick = Box<dyn Fn(&mut crate::AgentConfig)>;
/// One `key = value` line of a section and the change it makes.
type Line = (&'static str, String, Pick);

fn line(
    key: &'static str,
    value: String,
    apply: impl Fn(&mut crate::AgentConfig) + 'static,
) -> Line {
    (key, value, Box::new(apply))
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

/// An agent file of known-good values, and the config it must give.
#[derive(Clone, Debug)]
struct AgentDoc {
    text: String,
    want: String,
    /// Line (1-based) of each `key = value` and of its section's header,
    /// for the bad-value property.
    key_lines: Vec<(usize, &'static str, usize)>,
}

fn agent_doc() -> impl Strategy<Value = AgentDoc> {
    use prop::option::of;
    let agent = (
        of(name()),
        of(url()),
        of(url()),
        of(prop_oneof![Just(None), addr().prop_map(Some)]),
        of(addr()),
        of(path()),
        of(path()),
        of(duration()),
    );
    let health = of((
        (1u64..5000, 0u64..5000),
        of(1u32..100),
        of(1.0..1e6f64),
        of(duration()),
    ));
    let counts = (
        of(1usize..1_000_000),
        of(0usize..1 << 40),
        of(1u64..1 << 40),
        of(1u32..1000),
        of(1u64..1 << 40),
    );
    let flags = (of(path()), of(duration()));
    (agent, health, counts, flags).prop_map(|(a, h, c, f)| {
        let (world, collector, game, udp, http, data_dir, token_file, interval) = a;
        let agent = [
            world.map(|w| line("world", quoted(&w), move |c| c.world = w.clone())),
            collector.map(|(w, s)| line("collector", quoted(&w), move |c| c.collector = s.clone())),
            game.map(|(w, s)| line("game", quoted(&w), move |c| c.game = Some(s.clone()))),
            udp.map(|a| {
                let text = a.map(|a| a.to_string()).unwrap_or_default();
                line("statsd_udp", quoted(&text), move |c| c.statsd_udp = a)
            }),
            http.map(|a| line("http", quoted(&a.to_string()), move |c| c.http = a)),
            data_dir.map(|p| {
                line("data_dir", quoted(&p), move |c| {
                    c.data_dir = p.clone().into()
                })
            }),
            token_file.map(|p| {
                line("token_file", quoted(&p), move |c| {
                    c.token_file = Some(p.clone().into())
                })
            }),
            interval.map(|(t, d)| {
                line("report_interval", quoted(&t), move |c| {
                    c.report_interval = d
                })
            }),
        ];
        let health = h.map(|((a, b), failures, factor, stall_min)| {
            // probe_timeout may not exceed probe_interval: written together.
            let i = Duration::from_millis(a.max(b));
            let t = Duration::from_millis(a.min(b).max(1));
            [
                Some(line(
                    "probe_interval",
                    format!("\"{}ms\"", i.as_millis()),
                    move |c| c.health.probe_interval = i,
                )),
                Some(line(
                    "probe_timeout",
                    format!("\"{}ms\"", t.as_millis()),
                    move |c| c.health.probe_timeout = t,
                )),
                failures.map(|n| {
                    line("failures_before_down", n.to_string(), move |c| {
                        c.health.failures_before_down = n
                    })
                }),
                factor.map(|x| {
                    line("stall_factor", format!("{x:?}"), move |c| {
                        c.health.stall_factor = x
                    })
                }),
                stall_min
                    .map(|(s, d)| line("stall_min", quoted(&s), move |c| c.health.stall_min = d)),
            ]
        });
        let (series, rcvbuf, reports, attempts, dead) = c;
        let ingest = [
            series.map(|n| {
                line("max_series", n.to_string(), move |c| {
                    c.ingest.max_series = n
                })
            }),
            rcvbuf.map(|n| {
                line("recv_buffer_bytes", n.to_string(), move |c| {
                    c.ingest.recv_buffer_bytes = n
                })
            }),
        ];
        let spool = [
            reports.map(|n| {
                line("max_reports", n.to_string(), move |c| {
                    c.spool.max_reports = n
                })
            }),
            attempts.map(|n| {
                line("max_attempts", n.to_string(), move |c| {
                    c.spool.max_attempts = n
                })
            }),
            dead.map(|n| {
                line("max_dead_letters", n.to_string(), move |c| {
                    c.spool.max_dead_letters = n
                })
            }),
        ];
        let (file, poll) = f;
        let flags = [
            file.map(|p| {
                line("file", quoted(&p), move |c| {
                    c.flags.file = Some(p.clone().into())
                })
            }),
            poll.map(|(t, d)| {
                line("poll_interval", quoted(&t), move |c| {
                    c.flags.poll_interval = d
                })
            }),
        ];
        let sections: [(&str, Vec<Line>); 5] = [
            ("agent", agent.into_iter().flatten().collect()),
            ("health", health.into_iter().flatten().flatten().collect()),
            ("ingest", ingest.into_iter().flatten().collect()),
            ("spool", spool.into_iter().flatten().collect()),
            ("flags", flags.into_iter().flatten().collect()),
        ];

        let mut want = crate::default_agent();
        let (mut text, mut key_lines, mut at) = (String::new(), Vec::new(), 1);
        for (section, keys) in sections.into_iter().filter(|(_, k)| !k.is_empty()) {
            let _ = writeln!(text, "[{section}]");
            let header = at;
            at += 1;
            for (key, value, apply) in keys {
                let _ = writeln!(text, "{key} = {value}");
                key_lines.push((at, key, header));
                at += 1;
                apply(&mut want);
            }
        }
        AgentDoc {
            text,
            want: format!("{want:?}"),
            key_lines,
        }
    })
}

/// What an operator gets wrong in one value, for a key of each sort.
fn bad_value(key: &str) -> &'static str {
    match key {
        "world" => "\"no spaces\"",
        "collector" | "game" => "\"ftp://x\"",
        "statsd_udp" | "http" => "\"nowhere\"",
        "report_interval" | "probe_interval" | "probe_timeout" | "stall_min" | "poll_interval" => {
            "\"often\""
        }
        "stall_factor" => "0.5",
        "failures_before_down"
        | "max_series"
        | "max_reports"
        | "max_attempts"
        | "max_dead_letters" => "0",
        "recv_buffer_bytes" => "-1",
        "file" => "\" \"",
        _ => "[]",
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_valid_agent_file_is_read_as_written(doc in agent_doc()) {
        let got = crate::parse_agent("agent.toml", &doc.text)
            .map_err(|e| TestCaseError::fail(format!("{}\n{e}", doc.text)))?;
        prop_assert_eq!(format!("{got:?}"), doc.want, "{}", doc.text);
    }

    #[test]
    fn one_bad_agent_value_is_reported_on_its_line(doc in agent_doc(), pick in any::<prop::sample::Index>()) {
        prop_assume!(!doc.key_lines.is_empty());
        let (line, key, header) = doc.key_lines[pick.index(doc.key_lines.len())];
        let text: String = doc.text.lines().enumerate().map(|(i, l)| {
            if i + 1 == line { format!("{key} = {}\n", bad_value(key)) } else { format!("{l}\n") }
        }).collect();
        let err = match crate::parse_agent("agent.toml", &text) {
            Err(e) => e,
            Ok(_) => return Err(TestCaseError::fail(format!("accepted:\n{text}"))),
        };
        check_positions("agent.toml", &text, &err)?;
        // A bad probe interval or timeout falls back to its default, which
        // may then break the pair's rule: that error is the section's.
        let at = |d: &crate::Diagnostic| {
            let l = d.position.map(|p| p.0);
            l == Some(line) || (key.starts_with("probe_") && l == Some(header))
        };
        prop_assert!(
            err.0.iter().all(at),
            "{key} on line {line}:\n{text}\n{err}"
        );
    }
}
