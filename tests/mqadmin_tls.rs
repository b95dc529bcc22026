//! mqadmin with TLS set up the RocketMQ way, against the real standalone broker with
//! `tlsMode=enforcing` (plain connections refused): `JAVA_OPT="-Dtls.enable=true
//! -Dtls.config.file=FILE"` with a `tls.properties` giving `tls.test.mode.enable=false`,
//! `tls.client.authServer=true` and `tls.client.trustCertPath`; a wrong CA fails, RocketMQ's
//! default test mode connects without verifying (with a warning), and without `tls.enable` the
//! plain connection is refused.

mod common;

use common::client::start_broker;
use common::mqadmin::run_with;
use common::tls::{make_certs, tls_sets};

fn write_props(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn mqadmin_takes_tls_from_java_opt_and_tls_properties() {
    let certs = make_certs();
    let sets = tls_sets(&certs, "enforcing");
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    let b = start_broker(&sets);
    let ns = b.namesrv_addr();
    let args = ["clusterList", "-n", ns.as_str()];
    let dir = certs.dir.path();
    let verify = write_props(
        dir,
        "tls.properties",
        &format!(
            "tls.test.mode.enable=false\ntls.client.authServer=true\n\
             tls.client.trustCertPath={}\n",
            certs.ca.display()
        ),
    );
    let java_opt =
        |file: &str| format!("-server -Xms1g -Dtls.enable=true -Dtls.config.file={file}");

    let run = run_with(&args, &[("JAVA_OPT", &java_opt(&verify))]);
    assert!(run.err.is_empty(), "{run:?}");
    assert!(run.ok().contains("broker-a"));

    // Another CA: the broker's certificate does not verify.
    let other = make_certs();
    let wrong = write_props(
        dir,
        "wrong.properties",
        &format!(
            "tls.test.mode.enable=false\ntls.client.authServer=true\n\
             tls.client.trustCertPath={}\n",
            other.ca.display()
        ),
    );
    run_with(&args, &[("JAVA_OPT", &java_opt(&wrong))]).fails_with("");

    // RocketMQ's defaults (test mode on): TLS without verification, said on stderr.
    let missing = dir.join("none.properties");
    let run = run_with(
        &args,
        &[("JAVA_OPT", &java_opt(&missing.to_string_lossy()))],
    );
    assert!(
        run.err.contains("not verifying") || run.err.contains("without verifying"),
        "{run:?}"
    );
    assert!(run.ok().contains("broker-a"));

    // The file alone does not turn TLS on: a plain connection to an enforcing broker fails.
    let no_enable = format!("-Dtls.config.file={verify}");
    run_with(&args, &[("JAVA_OPT", &no_enable)]).fails_with("");

    // An encrypted key is refused with a clear reason.
    let enc = write_props(dir, "enc.properties", "tls.client.keyPassword=secret\n");
    run_with(&args, &[("JAVA_OPT", &java_opt(&enc))]).fails_with("tls.client.keyPassword");
}
