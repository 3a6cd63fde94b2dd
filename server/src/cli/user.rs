//! `chainmark user add|list`.

use std::io::{BufRead, IsTerminal};

use chainmark_server::accounts;
use chainmark_server::config::Settings;
use chainmark_server::domain::Role;
use chainmark_server::store::{Db, users};

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create an account. Without --password-stdin a password is generated and printed once; the
    /// user must change it at first sign-in.
    Add {
        /// Sign-in name: 3-64 letters, digits, '.', '_', '-' or '@'.
        username: String,
        /// hq_admin, hq_finance, hq_auditor, warehouse or agent.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Name shown in pages (defaults to the username).
        #[arg(long, default_value = "")]
        display_name: String,
        /// Read the password from the first line of standard input (at least 10 characters).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        format!("unknown role {s:?}: use hq_admin, hq_finance, hq_auditor, warehouse or agent")
    })
}

pub fn run(settings: Settings, cmd: UserCommand) -> anyhow::Result<()> {
    let db = Db::open(&settings.database_url, 1)?;
    db.migrate()?;
    let mut conn = db.get()?;
    match cmd {
        UserCommand::Add {
            username,
            role,
            display_name,
            password_stdin,
        } => {
            let password = if password_stdin {
                if std::io::stdin().is_terminal() {
                    eprintln!("password: ");
                }
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                Some(line.trim_end_matches(['\r', '\n']).to_string())
            } else {
                None
            };
            let (user, generated) = accounts::create_user(
                &mut conn,
                &username,
                &display_name,
                role,
                password.as_deref(),
            )?;
            println!("created user {} ({})", user.username, user.role);
            if let Some(p) = generated {
                println!("one-time password: {p}");
                println!("(shown once; it must be changed at first sign-in)");
            }
        }
        UserCommand::List => {
            for u in users::list(&mut conn)? {
                println!(
                    "{:>5}  {:<24} {:<11} {}{}",
                    u.id,
                    u.username,
                    u.role,
                    u.display_name,
                    if u.disabled { "  (disabled)" } else { "" }
                );
            }
        }
    }
    Ok(())
}
