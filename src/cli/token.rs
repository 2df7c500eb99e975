//! `riskmap token add|revoke|list`: the tokens file.

use super::CliError;
use super::args::TokenAction;
use crate::auth::{Role, TokensFile};
use crate::config::Config;

/// Runs a `token` action on the configured tokens file.
pub fn token(config: &Config, action: TokenAction) -> Result<(), CliError> {
    let path = config
        .tokens
        .clone()
        .ok_or_else(|| CliError::Refused("no `tokens` file is configured".into()))?;
    let mut file = TokensFile::load(&path)?;
    match action {
        TokenAction::Add { role, scope, name } => {
            let role: Role = role.into();
            let name = name.unwrap_or_else(|| match &scope {
                Some(s) => format!("{}-{s}", role.as_str()),
                None => role.as_str().to_string(),
            });
            let plain = file.add(&name, role, scope)?;
            file.save(&path)?;
            println!("{plain}");
            eprintln!(
                "added token {name:?} ({}) to {}; the plain token above is not stored",
                role.as_str(),
                path.display()
            );
        }
        TokenAction::Revoke { name } => {
            if !file.revoke(&name) {
                return Err(CliError::Refused(format!(
                    "no token named {name:?} in {}",
                    path.display()
                )));
            }
            file.save(&path)?;
            eprintln!("revoked {name:?}");
        }
        TokenAction::List => {
            for t in &file.tokens {
                println!(
                    "{}\t{}\t{}",
                    t.name,
                    t.role.as_str(),
                    t.scope.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}
