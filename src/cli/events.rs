//! `scimd events …`: an organization's event streams and SET signing keys, run through the
//! use cases as an administrator.

use anyhow::anyhow;
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret, SecretString};

use super::lookup::find_org;
use super::output::{self, Format};
use super::tables::{self, column};
use crate::service::audit::Actor;
use crate::service::events::streams::{self, Delivery, StreamRequest, StreamView};
use crate::service::events::{EventSettings, keys};
use crate::service::push::PushDestinations;
use crate::service::tokens::Caller;
use crate::store::{self, Store};

const CLI: Caller = Caller::Admin(Actor::Cli);

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Manage event streams: the receivers of an organization's SCIM events
    #[command(subcommand)]
    Stream(StreamCommand),
    /// Manage the keys SETs are signed with
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum StreamCommand {
    /// Create a stream; a poll stream's token is printed once
    Create(Box<CreateArgs>),
    /// List an organization's streams with their status and last error
    List {
        /// The organization (see `scimd org list`)
        #[arg(long)]
        org: String,
        #[command(flatten)]
        format: Format,
    },
    /// Show one stream
    Show(NamedStream),
    /// Delete a stream, its undelivered events and its poll token
    Delete(NamedStream),
    /// Stop delivering to a stream; its events wait
    Pause(NamedStream),
    /// Deliver to a paused or failed stream again
    Resume(NamedStream),
}

#[derive(Debug, Args)]
pub struct NamedStream {
    /// The organization (see `scimd org list`)
    #[arg(long)]
    org: String,
    /// The stream's name
    name: String,
    #[command(flatten)]
    format: Format,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The organization (see `scimd org list`)
    #[arg(long)]
    org: String,
    /// The stream's name, unique in the organization
    name: String,
    /// poll (RFC 8936: the receiver asks with the stream's token) or push (RFC 8935)
    #[arg(long, value_parser = ["poll", "push"])]
    delivery: String,
    /// Send the resource with each event (full), not only the changed attribute names
    #[arg(long)]
    full: bool,
    /// Only these event URIs (repeatable; default: all)
    #[arg(long = "event-type")]
    event_types: Vec<String>,
    /// Only events about these resource types: User, Group (repeatable; default: both)
    #[arg(long = "resource-type")]
    resource_types: Vec<String>,
    /// Push: the receiver's URL
    #[arg(long, required_if_eq("delivery", "push"))]
    push_url: Option<String>,
    /// Push: the Authorization header value to send, read from the environment so that it
    /// stays out of the shell history
    #[arg(long, env = "SCIMD_PUSH_AUTHORIZATION", hide_env_values = true)]
    push_authorization: Option<String>,
    /// The SETs' audience (aud); default: the push URL, or the stream's id
    #[arg(long)]
    audience: Option<String>,
    #[command(flatten)]
    destinations: PushDestinationArgs,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Sign with a new key from now on; the old one stays published for 7 days
    Rotate {
        /// The organization (see `scimd org list`)
        #[arg(long)]
        org: String,
    },
}

pub(super) fn run_events(store: &Store, command: EventsCommand) -> anyhow::Result<()> {
    match command {
        EventsCommand::Stream(command) => run_stream(store, command),
        EventsCommand::Keys(KeysCommand::Rotate { org }) => {
            let org = find_org(store, &org)?;
            let kid = store
                .write_blocking(|conn| keys::rotate(conn, &org.id, &Actor::Cli, store::now()))?;
            output::line(format_args!(
                "'{}' now signs with key {kid}; the previous key stays published for {} days",
                org.name,
                keys::ROTATION_GRACE.num_days()
            ))
        }
    }
}

fn run_stream(store: &Store, command: StreamCommand) -> anyhow::Result<()> {
    match command {
        StreamCommand::Create(args) => {
            let org = find_org(store, &args.org)?;
            let delivery = match args.delivery.as_str() {
                "push" => Delivery::Push {
                    url: args
                        .push_url
                        .ok_or_else(|| anyhow!("a push stream needs --push-url"))?,
                    authorization: args.push_authorization.map(SecretString::from),
                },
                _ => Delivery::Poll,
            };
            let rule = args.destinations.rule()?;
            let request = StreamRequest {
                name: args.name,
                delivery,
                full: args.full,
                event_types: args.event_types,
                resource_types: args.resource_types,
                audience: args.audience,
            };
            refuse_destination(&rule, &request)?;
            let created = store.write_blocking(|conn| {
                streams::create(conn, &org.id, &CLI, &request, store::now())
            })?;
            match &created.poll_token {
                Some(token) => output::secret(token.plain.expose_secret(), &token.id),
                None => output::line(format_args!(
                    "created push stream '{}' ({})",
                    created.stream.name, created.stream.id
                )),
            }
        }
        StreamCommand::List { org, format } => {
            let org = find_org(store, &org)?;
            let rows = store.run_blocking(|conn| streams::list(conn, &org.id))?;
            let views: Vec<StreamView> = rows.iter().map(StreamView::from).collect();
            if format.json {
                return output::json(&serde_json::json!({ "streams": views }));
            }
            let lines: Vec<Vec<String>> = views
                .iter()
                .map(|view| {
                    vec![
                        view.name.clone(),
                        view.delivery.clone(),
                        view.detail.clone(),
                        view.status.clone(),
                        view.last_error.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let columns = [
                column("NAME", 20),
                column("DELIVERY", 8),
                column("DETAIL", 6),
                column("STATUS", 8),
                column("LAST ERROR", 30),
            ];
            output::line(tables::render(&columns, &lines, format.wide))
        }
        StreamCommand::Show(named) => {
            let org = find_org(store, &named.org)?;
            let row =
                store.run_blocking(|conn| streams::find_by_name(conn, &org.id, &named.name))?;
            show(&StreamView::from(&row), named.format)
        }
        StreamCommand::Delete(named) => {
            let org = find_org(store, &named.org)?;
            store.write_blocking(|conn| {
                let row = streams::find_by_name(conn, &org.id, &named.name)?;
                streams::delete(conn, &org.id, &CLI, &row.stream_id())
            })?;
            output::line(format_args!("deleted event stream '{}'", named.name))
        }
        StreamCommand::Pause(named) => set_enabled(store, &named, false),
        StreamCommand::Resume(named) => set_enabled(store, &named, true),
    }
}

/// Refuses a push URL the deliverer would refuse, as the API and console do. The CLI has no
/// server's settings: it reads the same flags (and environment variables) as `serve`.
fn refuse_destination(rule: &PushDestinations, request: &StreamRequest) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(request.check_destination(rule))?;
    Ok(())
}

fn set_enabled(store: &Store, named: &NamedStream, enabled: bool) -> anyhow::Result<()> {
    let org = find_org(store, &named.org)?;
    let row = store.write_blocking(|conn| {
        let row = streams::find_by_name(conn, &org.id, &named.name)?;
        streams::set_enabled(conn, &org.id, &CLI, &row.stream_id(), enabled, store::now())
    })?;
    output::line(format_args!(
        "event stream '{}' is {}",
        row.name, row.status
    ))
}

fn show(view: &StreamView, format: Format) -> anyhow::Result<()> {
    if format.json {
        return output::json(view);
    }
    let list = |items: &[String]| {
        if items.is_empty() {
            "all".to_owned()
        } else {
            items.join(" ")
        }
    };
    let mut lines = vec![
        ("id", view.id.clone()),
        ("name", view.name.clone()),
        ("delivery", view.delivery.clone()),
        ("detail", view.detail.clone()),
        ("event types", list(&view.event_types)),
        ("resource types", list(&view.resource_types)),
        ("audience", view.audience.clone()),
        ("status", view.status.clone()),
    ];
    if let Some(url) = &view.push_url {
        lines.push(("push url", url.clone()));
    }
    if let Some(token) = &view.poll_token_id {
        lines.push(("poll token", token.clone()));
    }
    if let Some(error) = &view.last_error {
        lines.push(("last error", error.clone()));
    }
    let text: Vec<String> = lines
        .iter()
        .map(|(name, value)| format!("{name:<15} {value}"))
        .collect();
    output::line(text.join("\n"))
}

/// `scimd serve`'s change feed flags.
#[derive(Debug, Args)]
pub struct EventArgs {
    /// How long events are kept once every stream had them, for replay (7d, 12h)
    #[arg(
        long,
        env = "SCIMD_EVENTS_RETENTION",
        default_value = "7d",
        hide_env_values = true,
        value_name = "DURATION"
    )]
    pub events_retention: String,

    /// Longest time a poll waits for new events (30s, 2m)
    #[arg(
        long,
        env = "SCIMD_EVENTS_LONG_POLL",
        default_value = "30s",
        hide_env_values = true,
        value_name = "DURATION"
    )]
    pub events_long_poll: String,
}

impl EventArgs {
    pub fn settings(&self) -> anyhow::Result<EventSettings> {
        let duration = |flag: &str, text: &str| {
            crate::service::input::parse_duration(text)
                .map_err(|error| anyhow!("--{flag}: {error}"))
                .map(|delta| delta.to_std().unwrap_or(std::time::Duration::MAX))
        };
        let retention = duration("events-retention", &self.events_retention)?;
        let long_poll = duration("events-long-poll", &self.events_long_poll)?;
        anyhow::ensure!(
            long_poll <= std::time::Duration::from_secs(300),
            "--events-long-poll: at most 5 minutes"
        );
        Ok(EventSettings {
            retention,
            long_poll,
        })
    }
}

/// Where push event streams may deliver: `serve`'s rule, which `events stream create` applies
/// too (same flags, same environment variables).
#[derive(Debug, Args)]
pub struct PushDestinationArgs {
    /// Networks push event streams may deliver to although they are refused by default:
    /// loopback, link-local (cloud metadata), unspecified, multicast (a receiver on this
    /// machine: 127.0.0.1/32)
    #[arg(
        long = "events-push-allow",
        env = "SCIMD_EVENTS_PUSH_ALLOW",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub events_push_allow: Vec<String>,

    /// Refuse push destinations in private networks too (RFC 1918, 100.64.0.0/10, fc00::/7),
    /// for operators who host organizations they do not run
    #[arg(
        long,
        env = "SCIMD_EVENTS_PUSH_PUBLIC_ONLY",
        hide_env_values = true,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub events_push_public_only: bool,
}

impl PushDestinationArgs {
    pub fn rule(&self) -> anyhow::Result<PushDestinations> {
        Ok(PushDestinations {
            allowed: super::networks("--events-push-allow", &self.events_push_allow)?,
            public_only: self.events_push_public_only,
        })
    }
}
