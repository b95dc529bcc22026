//! `mqadmin`: RocketMQ's admin command line for actormq and Apache RocketMQ 4.x clusters. The
//! commands live in `actormq::admin::commands`; this binary only hands them the arguments.

fn main() {
    std::process::exit(actormq::admin::commands::main_with(
        std::env::args_os().collect(),
    ));
}
