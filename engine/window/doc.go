// Package window evaluates change windows: the times at which fix8524 may change a domain
// controller without an emergency override.
//
// A Window is a cron expression naming when it opens, a duration for how long it stays open,
// and the IANA time zone the cron expression is read in:
//
//	window "weekend" { cron = "0 22 * * SAT", duration = "6h", time_zone = "Europe/Berlin" }
//
// # Cron syntax
//
// The standard five fields "minute hour day-of-month month day-of-week" (robfig/cron/v3
// syntax: lists, ranges, steps, JAN-DEC, SUN-SAT, day-of-week 0-6 with 0 = Sunday, "?" as "*")
// and the descriptors @yearly, @annually, @monthly, @weekly, @daily, @midnight and @hourly.
// Refused: @every (a window must be anchored to the clock), a seconds field, and the
// TZ=/CRON_TZ= prefixes (the zone is the separate TimeZone field). As in cron, when both
// day-of-month and day-of-week are restricted, a day matches if either matches. A
// specification that never occurs (such as 30 February) is refused.
//
// # Time zones and daylight saving time
//
// TimeZone is an IANA name ("Europe/Berlin", "America/New_York"), "UTC", or "Local"; empty
// means UTC, so a window means the same thing on every machine. The package embeds the time
// zone database (time/tzdata), so zone names work on Windows hosts without one.
//
// Occurrences are wall-clock times in TimeZone. Across DST changes:
//   - a start whose wall-clock time occurs twice (the repeated hour when DST ends) opens at the
//     first of the two instants, once;
//   - a start whose wall-clock time does not exist (the skipped hour when DST begins) is not
//     dropped: it opens shifted forward by the length of the gap (02:30 becomes 03:30).
//
// Duration is elapsed time: a 6h window opening at 22:00 on the night DST ends closes at
// 03:00 wall-clock time, six real hours later. Duration must be positive and at most
// MaxDuration (31 days).
//
// # Being inside a window
//
// A window admits a change at instant now if some occurrence start s satisfies
// s <= now < s+Duration. Windows that span midnight, a week boundary or a month boundary need
// nothing special, because the occurrence that opened before now is found by looking back at
// least Duration. Occurrences may overlap; the admitting occurrence reported is the one that
// closes last.
//
// # Fail closed
//
// New and Parse validate; a Window built as a literal is compiled on first use, and if it is
// invalid it never admits anything (Active returns false and a zero time). Evaluate with no
// windows at all admits the change and says it is unrestricted: whether "no windows" means
// "always" is the caller's policy, and the Decision makes it visible.
package window
