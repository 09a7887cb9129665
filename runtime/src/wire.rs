//! Values that generated models write themselves rather than through their type's own
//! `Serialize`, because the default is slow on the path every response takes.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

/// Writes a date-time as chrono's `Serialize` does (RFC 3339, `Z`, and 0, 3, 6 or 9 fractional
/// digits, as many as it has), but as one string. chrono hands a serializer its text in about
/// twenty pieces, and serde_json escapes each piece on its own: a page of 20 items spent twice
/// the hand-written service's time writing itself.
pub fn date_time<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// [`date_time`] for an optional or nullable field (`None` is `null`, where it is written).
pub fn optional_date_time<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serializer.serialize_some(&DateTimeText(at)),
        None => serializer.serialize_none(),
    }
}

struct DateTimeText<'a>(&'a DateTime<Utc>);

impl Serialize for DateTimeText<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        date_time(self.0, serializer)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[derive(Serialize)]
    struct Ours {
        #[serde(serialize_with = "date_time")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "optional_date_time")]
        maybe: Option<DateTime<Utc>>,
    }

    #[derive(Serialize)]
    struct Chrono {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
    }

    #[test]
    fn date_times_are_written_as_chrono_writes_them() {
        let second = Utc.with_ymd_and_hms(2026, 12, 3, 19, 31, 46).unwrap();
        let nanos = [0, 965_000_000, 965_100_000, 965_123_456, 1];
        let mut times: Vec<DateTime<Utc>> = nanos
            .iter()
            .map(|n| second + chrono::Duration::nanoseconds(*n))
            .collect();
        // A leap second, and years that RFC 3339 cannot write without a sign.
        times.push(
            chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
                .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 1_500))
                .unwrap()
                .and_utc(),
        );
        times.push(Utc.with_ymd_and_hms(12_345, 1, 2, 3, 4, 5).unwrap());
        times.push(Utc.with_ymd_and_hms(-44, 3, 15, 12, 0, 0).unwrap());
        for at in times {
            for maybe in [None, Some(at)] {
                let ours = serde_json::to_string(&Ours { at, maybe }).unwrap();
                let theirs = serde_json::to_string(&Chrono { at, maybe }).unwrap();
                assert_eq!(ours, theirs);
            }
        }
    }
}
