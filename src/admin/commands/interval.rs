//! `-i interval`, shared by RocketMQ 5's getSyncStateSet and getBrokerEpoch: without it the
//! command prints once; with it the command prints, waits that many seconds and prints again
//! until it is killed (or its stdout is closed, or a round fails). As in RocketMQ an empty value
//! means 3 s; a value that is not a whole number of seconds of at least 1 is refused before
//! anything is asked (RocketMQ would spin on 0 and fail late on a negative).

use std::time::Duration;

use super::Ctx;
use crate::admin::error::{AdminError, Result};

/// RocketMQ's interval when `-i` is given empty.
const DEFAULT_SECS: u64 = 3;

#[derive(clap::Args, Debug, Default)]
pub struct IntervalOpt {
    /// Print again every this many seconds until killed (empty: 3); without it, print once.
    #[arg(
        short = 'i',
        long = "interval",
        value_name = "SECONDS",
        allow_hyphen_values = true
    )]
    interval: Option<String>,
}

impl IntervalOpt {
    /// The period between rounds; `None` for a single round.
    /// Run `once`, then again every period until [`next_round`] says stop (the command's whole
    /// run with `-i`; a single round without it). A bad `-i` fails before the first round.
    pub async fn repeat(
        &self,
        ctx: &mut Ctx,
        mut once: impl AsyncFnMut(&mut Ctx) -> Result<()>,
    ) -> Result<()> {
        let period = self.period()?;
        once(ctx).await?;
        while next_round(ctx, period).await {
            once(ctx).await?;
        }
        Ok(())
    }

    pub fn period(&self) -> Result<Option<Duration>> {
        let Some(raw) = &self.interval else {
            return Ok(None);
        };
        parse_secs(raw).map(|s| Some(Duration::from_secs(s)))
    }
}

/// `-i`'s value as seconds: empty is the default, else a whole number ≥ 1.
fn parse_secs(raw: &str) -> Result<u64> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(DEFAULT_SECS);
    }
    match t.parse::<u64>() {
        Ok(s) if s >= 1 => Ok(s),
        _ => Err(AdminError::Invalid(format!(
            "-i interval must be a whole number of seconds of at least 1, got '{t}'"
        ))),
    }
}

/// After a round: whether to go on (a period is set and stdout still takes output), having
/// slept the period.
async fn next_round(ctx: &Ctx, period: Option<Duration>) -> bool {
    match period {
        Some(p) if !ctx.closed => {
            tokio::time::sleep(p).await;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_values() {
        assert_eq!(parse_secs("1").unwrap(), 1);
        assert_eq!(parse_secs(" 7 ").unwrap(), 7);
        assert_eq!(parse_secs("").unwrap(), DEFAULT_SECS);
        for bad in ["0", "-1", "x", "1.5"] {
            let e = parse_secs(bad).unwrap_err().to_string();
            assert!(e.contains("-i interval") && e.contains(bad), "{e}");
        }
        assert_eq!(IntervalOpt::default().period().unwrap(), None);
    }
}
