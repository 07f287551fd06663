//! Organizations adapter: the accounts of the organisation, or of organisational units (and every
//! unit below them), paged, read once per run. An error here is the run's input failing: it is
//! named (not the management account or a delegated administrator, an unknown OU), never
//! swallowed into an empty account list.
use aws_sdk_organizations::types::ChildType;
use aws_sdk_organizations::Client;

use crate::domain::scopes::OrgAccount;
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Organizations {
    client: Client,
}

impl Organizations {
    pub fn new(client: Client) -> Self {
        Organizations { client }
    }

    /// Every account of the organisation, whatever its status.
    pub async fn accounts(&self) -> Result<Vec<OrgAccount>> {
        let mut pages = self.client.list_accounts().into_paginator().send();
        let mut all = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| named(Error::aws("ListAccounts", e), "the organisation"))?;
            all.extend(page.accounts().iter().filter_map(to_account));
        }
        Ok(all)
    }

    /// Every account under `ou`, in it and in every unit below it (depth first).
    pub async fn accounts_under(&self, ou: &str) -> Result<Vec<OrgAccount>> {
        let mut all = Vec::new();
        let mut units = vec![ou.to_string()];
        while let Some(unit) = units.pop() {
            let mut pages = self.client.list_accounts_for_parent().parent_id(&unit).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| named(Error::aws("ListAccountsForParent", e), &unit))?;
                all.extend(page.accounts().iter().filter_map(to_account));
            }
            let mut children = self
                .client
                .list_children()
                .parent_id(&unit)
                .child_type(ChildType::OrganizationalUnit)
                .into_paginator()
                .send();
            while let Some(page) = children.next().await {
                let page = page.map_err(|e| named(Error::aws("ListChildren", e), &unit))?;
                units.extend(page.children().iter().filter_map(|c| c.id().map(str::to_string)));
            }
        }
        Ok(all)
    }
}

fn to_account(a: &aws_sdk_organizations::types::Account) -> Option<OrgAccount> {
    Some(OrgAccount { id: a.id()?.to_string(), status: a.status().map_or("UNKNOWN", |s| s.as_str()).to_string() })
}

/// Says what the common Organizations errors mean for `AUDIT_ACCOUNTS`.
fn named(err: Error, what: &str) -> Error {
    let hint = match err.code() {
        Some("AccessDeniedException") => Some(format!(
            "AUDIT_ACCOUNTS needs {what} to be listed: run the auditor in the organisation's management \
             account or a delegated administrator account"
        )),
        Some("AWSOrganizationsNotInUseException") => {
            Some("AUDIT_ACCOUNTS names the organisation, but this account is in none".to_string())
        }
        Some("ParentNotFoundException" | "OrganizationalUnitNotFoundException") => {
            Some(format!("AUDIT_ACCOUNTS names {what}, which is not an organisational unit of the organisation"))
        }
        _ => None,
    };
    match (hint, err) {
        (Some(hint), Error::Aws { operation, code, message, .. }) => {
            Error::Aws { operation, code, message: format!("{hint} ({message})"), retryable: false }
        }
        (_, err) => err,
    }
}
