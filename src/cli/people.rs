//! `scimd admin`: the people who sign in to the console, for automation and recovery (a lost
//! owner, a first start whose set-up link expired). Each command calls the same use cases as
//! the console's People page, as the operator (`cli` in the audit log).

use std::io::Read;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use secrecy::SecretString;

use super::lookup::find_org;
use super::output::{self, Format};
use super::tables::{self, column};
use crate::service::audit::Actor;
use crate::service::people::{self, DisplayName, Email, Role, SetupLink, TokenDecision};
use crate::store::{self, Store};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Give someone a role in an organization's console, creating their account if needed;
    /// prints a one-time set-up link unless --password-stdin gives the password
    Create(CreateArgs),
    /// List the people of an organization
    List {
        /// The organization's name
        #[arg(long)]
        org: String,
        #[command(flatten)]
        format: Format,
    },
    /// Take someone out of an organization (their account goes when no organization is left);
    /// the tokens they created keep working unless --revoke-tokens
    Remove {
        /// Their e-mail address
        email: String,
        /// The organization's name
        #[arg(long)]
        org: String,
        /// Also revoke every token they created in the organization
        #[arg(long)]
        revoke_tokens: bool,
    },
    /// Print a one-time link that lets someone choose a new password
    ResetPassword {
        /// Their e-mail address
        email: String,
        #[command(flatten)]
        link: LinkArgs,
    },
}

/// `scimd admin create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The organization's name
    #[arg(long)]
    org: String,
    /// Their e-mail address: what they sign in with
    #[arg(long)]
    email: String,
    /// Their name as the console shows it [default: the address's part before '@']
    #[arg(long)]
    name: Option<String>,
    /// owner (everything, people included), admin (tokens and policies) or viewer (reads only)
    #[arg(long, default_value = "admin")]
    role: String,
    /// Read the password from stdin (one line) instead of printing a set-up link
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    link: LinkArgs,
}

/// Where printed links point.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The server's address as browsers reach it, for the printed link
    #[arg(
        long,
        env = "SCIMD_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080",
        hide_env_values = true
    )]
    base_url: String,
}

/// The CLI acts as the operator.
const CLI: Actor = Actor::Cli;

pub(super) fn run(store: &Store, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Create(args) => create(store, args),
        AdminCommand::List { org, format } => list(store, &org, format),
        AdminCommand::Remove {
            email,
            org,
            revoke_tokens,
        } => remove(store, &email, &org, revoke_tokens),
        AdminCommand::ResetPassword { email, link } => {
            let email = Email::parse(&email)?;
            let link_made =
                store.write_blocking(|conn| people::reset_password(conn, &email, store::now()))?;
            print_link(&link, &link_made)?;
            eprintln!(
                "{email} can choose a new password with the link above until {} UTC; their \
                 current password works until then",
                tables::time(link_made.expires_at)
            );
            Ok(())
        }
    }
}

fn create(store: &Store, args: CreateArgs) -> anyhow::Result<()> {
    let email = Email::parse(&args.email)?;
    let name = args.name.as_deref().map(DisplayName::parse).transpose()?;
    let role = Role::parse(&args.role).map_err(|e| anyhow!("--role: {e}"))?;
    let org = find_org(store, &args.org)?;
    if args.password_stdin {
        let password = read_password()?;
        let store = store.clone();
        let person = actix_web::rt::System::new().block_on(people::create_with_password(
            &store, org.id, CLI, email, name, role, password,
        ))?;
        return output::line(format_args!(
            "{} is now {role} of '{}' and can sign in at /console/sign-in",
            person.email, org.name
        ));
    }
    let link = store.write_blocking(|conn| {
        people::invite(
            conn,
            &org.id,
            &CLI,
            &email,
            name.as_ref(),
            role,
            store::now(),
        )
    })?;
    match link {
        Some(link) => {
            print_link(&args.link, &link)?;
            eprintln!(
                "{email} is now {role} of '{}'; hand them the link above (it works once, until \
                 {} UTC) to choose their password",
                org.name,
                tables::time(link.expires_at)
            );
            Ok(())
        }
        None => output::line(format_args!(
            "{email} is now {role} of '{}' and signs in with their existing password",
            org.name
        )),
    }
}

/// The whole link on stdout, like a new token's secret: it is one.
fn print_link(args: &LinkArgs, link: &SetupLink) -> anyhow::Result<()> {
    let url = format!("{}{}", args.base_url.trim_end_matches('/'), link.path());
    output::line(url).map_err(|error| {
        anyhow!(
            "the set-up link could not be written to stdout ({error}); run \
             `scimd admin reset-password EMAIL` for another"
        )
    })
}

/// One line from stdin, without its line ending; nothing else of stdin is read.
fn read_password() -> anyhow::Result<SecretString> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(4 * 1024 + 2)
        .read_to_end(&mut bytes)?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow!("the password is not UTF-8"))?;
    let line = text.lines().next().unwrap_or_default();
    let password = SecretString::from(line.to_owned());
    people::check_password_policy(&password)?;
    Ok(password)
}

fn list(store: &Store, org: &str, format: Format) -> anyhow::Result<()> {
    let org = find_org(store, org)?;
    let members = store.run_blocking(|conn| people::list(conn, &org.id))?;
    if format.json {
        return output::json(&serde_json::json!({ "people": members }));
    }
    let now = store::now();
    let rows: Vec<Vec<String>> = members
        .iter()
        .map(|member| {
            vec![
                member.email.clone(),
                member.display_name.clone(),
                member.role.to_string(),
                tables::when(Some(member.created_at), now, format.wide),
                if member.has_password {
                    tables::when(member.last_sign_in_at, now, format.wide)
                } else {
                    "set-up link not used yet".to_owned()
                },
            ]
        })
        .collect();
    let columns = [
        column("EMAIL", 30),
        column("NAME", 20),
        column("ROLE", 6),
        column("ADDED", 14),
        column("LAST SIGN-IN", 24),
    ];
    output::line(tables::render(&columns, &rows, format.wide))
}

fn remove(store: &Store, email: &str, org: &str, revoke_tokens: bool) -> anyhow::Result<()> {
    let email = Email::parse(email)?;
    let org = find_org(store, org)?;
    let tokens = store.write_blocking(|conn| {
        let now = store::now();
        let tokens = people::tokens_created_by(conn, &org.id, &email)?;
        let decision = if revoke_tokens {
            TokenDecision::Revoke
        } else {
            TokenDecision::Keep
        };
        let decisions: Vec<_> = tokens.iter().map(|t| (t.id.clone(), decision)).collect();
        people::remove(conn, &org.id, &CLI, &email, &decisions, now)?;
        Ok(tokens)
    })?;
    output::line(format_args!("removed {email} from '{}'", org.name))?;
    if !tokens.is_empty() {
        let what = if revoke_tokens {
            "revoked"
        } else {
            "kept (still working)"
        };
        eprintln!("tokens they created, {what}:");
        for token in &tokens {
            eprintln!("  {}  {}", tables::id(token.id.as_str(), false), token.name);
        }
    }
    Ok(())
}
