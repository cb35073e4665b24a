#!/bin/sh
# Seeds each target's corpus (fuzz/corpus, gitignored) with known-good
# input, so libFuzzer starts from the grammar rather than from nothing:
# the shipped config files, a valid report, a few DogStatsD lines.
set -eu
cd "$(dirname "$0")"
mkdir -p corpus/dogstatsd_line corpus/report_decode corpus/flag_file \
    corpus/collector_config corpus/agent_config
cp ../config/agent.toml corpus/agent_config/shipped.toml
cp ../config/collector.toml corpus/collector_config/shipped.toml
cp ../config/flags.toml corpus/flag_file/shipped.toml
printf 'request:1|c|@0.5|#op:march,status:ok\ntick.duration:48:50|ms\nplayers.online:1200|g|T1656581400|c:83c0a99c\n' \
    > corpus/dogstatsd_line/lines
printf 'x:1e308|c\nx:1e308|c\nlat:1|d|@1e-320\n_e{1,1}:t|x\ns:v|s\n' > corpus/dogstatsd_line/edges
# The targets' collector clock is 1800000000000 ms.
cat > corpus/report_decode/report.json <<'JSON'
{"agent":"w1-a","world":"w1","seq":7,"start_ms":1799999999000,"end_ms":1800000000000,
 "health":{"up":true,"probe_ok":true,"stalled":false,"up_ms":1000,"observed_ms":1000},
 "counters":[{"name":"request","tags":{"status":"ok"},"value":30.0}],
 "gauges":[{"name":"players.online","tags":{},"value":12.0}],
 "histograms":[{"name":"tick.duration","tags":{},"histogram":{"counts":[0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"sum":48.0,"count":1.0}}],
 "losses":{"malformed_lines":0,"series_overflow_lines":0,"spool_dropped_reports":0,"nonfinite_values":0}}
JSON
