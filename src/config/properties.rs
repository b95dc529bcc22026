//! Java `.properties` text, as RocketMQ's `broker.conf`/`namesrv.conf` use it: `key=value` or
//! `key: value` lines, `#` and `!` comments, surrounding whitespace ignored. (Line continuations
//! and unicode escapes are not used by RocketMQ config files and are not supported.)

/// Parse properties text into (key, value) pairs in file order.
pub fn parse(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let split = line.find(['=', ':']);
        let (k, v) = match split {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, ""),
        };
        out.push((k.trim().to_string(), v.trim().to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_rocketmq_conf() {
        let p = super::parse(
            "brokerClusterName = DefaultCluster\n#c\n\nnamesrvAddr=127.0.0.1:9876\nflag\n",
        );
        assert_eq!(
            p,
            vec![
                ("brokerClusterName".into(), "DefaultCluster".into()),
                ("namesrvAddr".into(), "127.0.0.1:9876".into()),
                ("flag".into(), "".into())
            ]
        );
    }
}
