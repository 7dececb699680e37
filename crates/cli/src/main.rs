//! The `corral` command.

fn main() {
    let code = corral_cli::run(std::env::args_os(), &mut std::io::stdout(), &mut std::io::stderr());
    std::process::exit(code);
}
