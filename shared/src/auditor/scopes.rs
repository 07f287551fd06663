//! Discovering the scopes of a run, once per run: the accounts (this one, listed ids, the
//! accounts under organisational units, or the whole organisation, minus the excluded ones and
//! those not active) times the regions (this one, listed, or every enabled region). An
//! Organizations error fails the run: it is the run's input.
use super::{Auditor, Options};
use crate::aws::ec2::Ec2;
use crate::aws::organizations::Organizations;
use crate::domain::scopes::{plan_scopes, AccountSelection, OrgAccount, Planned, RegionSelection};
use crate::error::Result;

impl Auditor {
    /// The scopes `options` select, with what was left out and why.
    pub(super) async fn discover(&self, me: &str, options: &Options) -> Result<Planned> {
        let (accounts, regions) =
            tokio::try_join!(self.accounts(me, &options.accounts), self.regions(&options.regions))?;
        Ok(plan_scopes(&accounts, &options.exclude, &regions))
    }

    async fn accounts(&self, me: &str, selection: &AccountSelection) -> Result<Vec<OrgAccount>> {
        let active = |id: &String| OrgAccount { id: id.clone(), status: "ACTIVE".into() };
        match selection {
            AccountSelection::This => Ok(vec![active(&me.to_string())]),
            AccountSelection::Organization => self.organizations().accounts().await,
            AccountSelection::Listed { accounts, units } => {
                let org = self.organizations();
                let mut under = Vec::new();
                for unit in units {
                    under.extend(org.accounts_under(unit).await?);
                }
                // Listed ids first (with the status Organizations gave, when it knows them);
                // plan_scopes drops the duplicates.
                let known = |id: &String| under.iter().find(|a| &a.id == id).cloned();
                let mut all: Vec<OrgAccount> =
                    accounts.iter().map(|id| known(id).unwrap_or_else(|| active(id))).collect();
                all.extend(under);
                Ok(all)
            }
        }
    }

    async fn regions(&self, selection: &RegionSelection) -> Result<Vec<String>> {
        match selection {
            RegionSelection::This => Ok(vec![self.region.clone()]),
            RegionSelection::Listed(regions) => Ok(regions.clone()),
            RegionSelection::Enabled => {
                Ec2::new(aws_sdk_ec2::Client::new(self.identity.base())).enabled_regions().await
            }
        }
    }

    fn organizations(&self) -> Organizations {
        Organizations::new(aws_sdk_organizations::Client::new(self.identity.base()))
    }
}
