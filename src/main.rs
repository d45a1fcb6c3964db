use std::process::ExitCode;

fn main() -> ExitCode {
    cancel_policy::cli::main()
}
