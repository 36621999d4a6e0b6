// Package metrics exposes what fix8524 heal sees and does as Prometheus metrics, from its own
// registry (never the global default one), in two modes:
//
//   - loop mode (heal --every 15m): Serve answers GET /metrics on a listen address, by default
//     127.0.0.1:9524 (DefaultListen). Listen refuses any address that is not loopback —
//     ":9524", "0.0.0.0:9524", a LAN address or a host name other than localhost — unless
//     allowRemote is true, which the CLI exposes as --metrics-allow-remote. The endpoint has no
//     authentication: put a reverse proxy with TLS and authentication in front of it rather
//     than exposing it.
//   - one-shot mode (cron, systemd timer, Task Scheduler): WriteTextfile writes the metrics in
//     the text exposition format for node_exporter's textfile collector
//     (--collector.textfile.directory). The file name must end in ".prom"; it is written to a
//     hidden temporary file in the same directory (which the collector ignores), synced, made
//     world-readable (0644) and renamed over the target, so the collector never reads half a
//     file.
//
// # Metrics
//
//	fix8524_failing_links{decision}                 gauge    failing links after the last run, by the decision that explains them (links it healed, replication confirmed, are not counted)
//	                                                          ("incomplete": diagnosis incomplete, "unmatched": no playbook matched)
//	fix8524_warnings{warning}                       gauge    partnerships that replicate now but will fail later, in the last run,
//	                                                          by the playbook's warning (e.g. link_address_latent)
//	fix8524_heal_actions_total{outcome}             counter  actions by outcome since the process started
//	fix8524_heal_last_run_actions{outcome}          gauge    actions by outcome in the last run
//	fix8524_heal_last_run_held{reason}              gauge    candidates held in the last run, by hold code (heal/policy)
//	fix8524_heal_breaker_open                       gauge    1 while the circuit breaker is open
//	fix8524_gather_duration_seconds                 gauge    how long the last gather took
//	fix8524_heal_runs_total{exit_code}              counter  runs since the process started, by exit code
//	fix8524_heal_last_run_exit_code                 gauge    exit code of the last run
//	fix8524_heal_last_run_timestamp_seconds         gauge    when the last run ended (Unix time)
//	fix8524_heal_last_success_timestamp_seconds     gauge    when the last run that completed without error ended
//	                                                          (exit code 0, 2 or 3: it ran; it does not mean healthy)
//
// Outcomes are succeeded, failed (verification failed), pending, error, held (needs a human)
// and refused (held by a guardrail); any other value is counted as "other", so label
// cardinality stays bounded. Every metric carries a constant forest label when Options.Forest
// is set.
//
// In one-shot mode counters start from zero in every process: read the last_run gauges there.
// To keep fix8524_heal_last_success_timestamp_seconds across runs that fail, seed it from the
// previous file with LastSuccessFromTextfile before recording the run.
//
// Useful alerts: time() - fix8524_heal_last_success_timestamp_seconds > 3 * interval (heal is
// not running), fix8524_heal_breaker_open == 1, sum(fix8524_failing_links) > 0 for an hour,
// sum(fix8524_warnings) > 0 for a day (a link will break: fix it in a change window).
package metrics
