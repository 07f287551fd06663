//! What the drawing shows: the VPCs, the peering connections between them and the endpoint
//! services with their consumer accounts, each coloured by the worst finding about it. A
//! finding is "about" an element when the element's id is among the finding's subjects.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use vpcwarden_core::audit::{EndpointService, Observed};
use vpcwarden_core::domain::{Finding, FindingCode, PeeringStatus, Severity};

use super::Audited;

/// The worst severity among the (counted) findings about an element of the drawing, their
/// codes, and whether one of them is new since the previous run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst: Option<Severity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<FindingCode>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub new: bool,
}

impl Health {
    fn of<'a, 'f: 'a>(findings: impl Iterator<Item = &'a About<'f>>) -> Self {
        let mut codes: BTreeSet<FindingCode> = BTreeSet::new();
        let (mut worst, mut new) = (None, false);
        for a in findings {
            codes.insert(a.finding.code());
            worst = worst.max(Some(a.finding.severity()));
            new |= a.new;
        }
        Health { worst, codes: codes.into_iter().collect(), new }
    }
}

/// A finding, and whether it is new since the previous run.
struct About<'f> {
    finding: &'f Finding,
    new: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstateVpc {
    pub id: String,
    pub account: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub cidrs: Vec<String>,
    /// Audited in this run (as opposed to a peer seen only through a connection).
    pub audited: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstatePeering {
    pub id: String,
    pub status: String,
    pub requester_vpc: String,
    pub accepter_vpc: String,
    pub managed: bool,
    #[serde(flatten)]
    pub health: Health,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstateConsumer {
    pub account: String,
    /// Connection count per state (`available`, `pendingAcceptance`, …).
    pub connections: BTreeMap<String, usize>,
    #[serde(flatten)]
    pub health: Health,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstateService {
    pub id: String,
    pub account: String,
    pub region: String,
    pub acceptance_required: bool,
    pub consumers: Vec<EstateConsumer>,
    #[serde(flatten)]
    pub health: Health,
}

/// What the drawing shows: VPCs with their CIDRs, the connections between them, and the
/// endpoint services with their consumer accounts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estate {
    pub vpcs: Vec<EstateVpc>,
    pub peerings: Vec<EstatePeering>,
    pub services: Vec<EstateService>,
}

/// The findings by the ids they are about, built once per estate: an element's health is then
/// a look-up rather than a scan of every finding (quadratic at a thousand peerings).
struct BySubject<'f>(HashMap<&'f str, Vec<usize>>, Vec<About<'f>>);

impl<'f> BySubject<'f> {
    fn new(findings: &'f [Finding], new_ids: &BTreeSet<&str>) -> Self {
        let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut all = Vec::with_capacity(findings.len());
        for (i, f) in findings.iter().enumerate() {
            for id in f.subjects() {
                by_id.entry(id).or_default().push(i);
            }
            all.push(About { finding: f, new: new_ids.contains(f.id().as_str()) });
        }
        BySubject(by_id, all)
    }

    fn about(&self, id: &str) -> impl Iterator<Item = &About<'f>> + '_ {
        self.0.get(id).into_iter().flatten().map(|i| &self.1[*i])
    }
}

impl Estate {
    /// The estate of the audited scopes, coloured by `findings` (the counted ones); `new_ids`
    /// are the ids of those new since the previous run.
    pub(crate) fn build(audited: &[&Audited], findings: &[Finding], new_ids: &BTreeSet<&str>) -> Self {
        let by_subject = BySubject::new(findings, new_ids);
        let mut estate = EstateBuilder::default();
        for a in audited {
            estate.audited_vpcs(&a.observed);
        }
        for a in audited {
            estate.peerings(&a.observed, &by_subject);
            for s in &a.observed.services {
                estate.service(&a.observed, s, &by_subject);
            }
        }
        Estate {
            vpcs: estate.vpcs.into_values().collect(),
            peerings: estate.peerings.into_values().collect(),
            services: estate.services,
        }
    }
}

#[derive(Default)]
struct EstateBuilder {
    vpcs: BTreeMap<String, EstateVpc>,
    peerings: BTreeMap<String, EstatePeering>,
    services: Vec<EstateService>,
}

impl EstateBuilder {
    fn audited_vpcs(&mut self, o: &Observed) {
        for v in &o.vpcs {
            let vpc = EstateVpc {
                id: v.id.clone(),
                account: o.account.clone(),
                region: o.region.clone(),
                name: v.name.clone(),
                cidrs: v.cidrs.iter().map(ToString::to_string).collect(),
                audited: true,
            };
            self.vpcs.insert(v.id.clone(), vpc);
        }
    }

    /// Each connection once, active if any scope sees it active, managed if any scope manages
    /// it; its peer VPCs drawn too when no scope audited them.
    fn peerings(&mut self, o: &Observed, by_subject: &BySubject) {
        for p in &o.peerings {
            let health = Health::of(by_subject.about(&p.id));
            // Dead connections are drawn only while something still points at them.
            if p.status.is_dead() && health.worst.is_none() {
                continue;
            }
            for side in [&p.requester, &p.accepter] {
                self.vpcs.entry(side.vpc_id.clone()).or_insert_with(|| EstateVpc {
                    id: side.vpc_id.clone(),
                    account: side.account.clone(),
                    region: side.region.clone(),
                    name: None,
                    cidrs: side.cidrs.iter().map(ToString::to_string).collect(),
                    audited: false,
                });
            }
            let managed = o.is_managed(p);
            let entry = self.peerings.entry(p.id.clone()).or_insert_with(|| EstatePeering {
                id: p.id.clone(),
                status: p.status.as_str().to_string(),
                requester_vpc: p.requester.vpc_id.clone(),
                accepter_vpc: p.accepter.vpc_id.clone(),
                managed,
                health,
            });
            entry.managed |= managed;
            if p.status == PeeringStatus::Active {
                entry.status = p.status.as_str().to_string();
            }
        }
    }

    /// A service and its consumers. The service is coloured by the findings filed under it
    /// (its settings, principals, health); a consumer by those about both the service and
    /// the account: its endpoints, its quota, its principal, its grant.
    fn service(&mut self, o: &Observed, s: &EndpointService, by_subject: &BySubject) {
        let mut by_account: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
        for c in &s.connections {
            *by_account.entry(&c.account).or_default().entry(c.state.as_str().to_string()).or_default() += 1;
        }
        let about_service: Vec<&About> = by_subject.about(&s.id).collect();
        let consumers = by_account
            .into_iter()
            .map(|(account, connections)| {
                let about_account = about_service.iter().copied().filter(|a| a.finding.subjects().contains(&account));
                EstateConsumer { account: account.to_string(), connections, health: Health::of(about_account) }
            })
            .collect();
        self.services.push(EstateService {
            id: s.id.clone(),
            account: o.account.clone(),
            region: o.region.clone(),
            acceptance_required: s.acceptance_required,
            consumers,
            health: Health::of(about_service.iter().copied().filter(|a| a.finding.resource() == s.id)),
        });
    }
}
