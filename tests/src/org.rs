//! An AWS Organization seeded in the emulator: the management account (the harness's default
//! account) creates it, organisational units under the root (and nested ones), member accounts
//! moved into them, and accounts closed until Organizations reports them `SUSPENDED`.
use aws_sdk_organizations::types::{AccountStatus, CreateAccountState, OrganizationFeatureSet};

use crate::aws::Aws;
use crate::emulator::Emulator;
use crate::ACCOUNT;

/// The seeded organisation: its root, and the ids of what was created.
pub struct Org {
    client: aws_sdk_organizations::Client,
    pub root: String,
}

impl Org {
    /// Creates the organisation with the default account as its management account.
    pub async fn create(aws: &Aws) -> Org {
        let client = aws_sdk_organizations::Client::new(&aws.config(ACCOUNT, crate::REGION).await);
        client
            .create_organization()
            .feature_set(OrganizationFeatureSet::All)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateOrganization: {e:?}"));
        let roots = client.list_roots().send().await.unwrap_or_else(|e| panic!("ListRoots: {e:?}"));
        let root = roots.roots()[0].id().expect("the root has an id").to_string();
        Org { client, root }
    }

    /// A new organisational unit under `parent` (the root, or another unit).
    pub async fn unit(&self, parent: &str, name: &str) -> String {
        let out = self
            .client
            .create_organizational_unit()
            .parent_id(parent)
            .name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateOrganizationalUnit {name}: {e:?}"));
        out.organizational_unit().and_then(|u| u.id()).expect("the unit has an id").to_string()
    }

    /// A new member account, moved under `parent`; its id.
    pub async fn account(&self, name: &str, parent: &str) -> String {
        let out = self
            .client
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateAccount {name}: {e:?}"));
        let status = out.create_account_status().expect("a creation status");
        assert_eq!(status.state(), Some(&CreateAccountState::Succeeded), "{status:?}");
        let id = status.account_id().expect("the new account's id").to_string();
        if parent != self.root {
            self.client
                .move_account()
                .account_id(&id)
                .source_parent_id(&self.root)
                .destination_parent_id(parent)
                .send()
                .await
                .unwrap_or_else(|e| panic!("MoveAccount {id}: {e:?}"));
        }
        id
    }

    /// Closes `account` and moves the emulator's clock until Organizations says `SUSPENDED`.
    pub async fn suspend(&self, emu: &Emulator, account: &str) {
        self.client
            .close_account()
            .account_id(account)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CloseAccount {account}: {e:?}"));
        emu.advance_clock(6 * 60);
        let described = self.client.describe_account().account_id(account).send().await;
        let status = described.unwrap_or_else(|e| panic!("DescribeAccount {account}: {e:?}"));
        assert_eq!(status.account().and_then(|a| a.status()), Some(&AccountStatus::Suspended));
    }
}

/// The sample organisation of the tests and the demo: units prod (payments, ledger, and the
/// nested unit prod-eu with payments-eu) and dev (sandbox, closed until SUSPENDED, and
/// playground) under the root; the management account is the harness's default account.
pub struct Sample {
    pub root: String,
    pub prod: String,
    pub dev: String,
    pub payments: String,
    pub ledger: String,
    pub payments_eu: String,
    pub sandbox: String,
    pub playground: String,
}

impl Sample {
    pub async fn create(stage: &crate::stage::Stage) -> Sample {
        let org = Org::create(&stage.aws).await;
        let (prod, dev) = (org.unit(&org.root, "prod").await, org.unit(&org.root, "dev").await);
        let prod_eu = org.unit(&prod, "prod-eu").await;
        let sample = Sample {
            payments: org.account("payments", &prod).await,
            ledger: org.account("ledger", &prod).await,
            payments_eu: org.account("payments-eu", &prod_eu).await,
            sandbox: org.account("sandbox", &dev).await,
            playground: org.account("playground", &dev).await,
            root: org.root.clone(),
            prod,
            dev,
        };
        org.suspend(&stage.emu, &sample.sandbox).await;
        sample
    }
}

/// The org-audit state machine's three steps, driven as its definition drives them, through the
/// Runtime API (the state machine itself runs in tests/infra/test_org_audit_e2e.py): plan, then
/// every item of the plan's `scopes.json` (as the `ItemReader` reads it, in order, the
/// `ItemSelector`'s payload), then aggregate. `skip` leaves scopes out, as if their child
/// executions had failed for good. The plan's, each scope's and the aggregate's answers.
pub struct Steps {
    pub plan: serde_json::Value,
    pub scopes: Vec<serde_json::Value>,
    pub aggregate: Result<serde_json::Value, crate::runtime::InvokeError>,
}

pub async fn run_steps(f: &crate::Function, aws: &Aws, options: serde_json::Value, skip: &[(&str, &str)]) -> Steps {
    use serde_json::json;
    let mut plan_event = json!({"mode": "plan", "dry_run": null, "remediate": null});
    plan_event.as_object_mut().unwrap().extend(options.as_object().cloned().unwrap_or_default());
    let plan = f.invoke(plan_event.clone()).await.unwrap_or_else(|e| panic!("plan: {e}\n{}", f.logs()));
    let key = plan["scopes_key"].as_str().expect("the plan names its items");
    let items: Vec<serde_json::Value> =
        serde_json::from_str(&crate::audit_seed::report_object(aws, key).await).unwrap();
    assert_eq!(plan["scope_count"].as_u64(), Some(items.len() as u64), "{plan}");
    let mut scopes = Vec::new();
    for item in &items {
        let (account, region) = (item["account"].as_str().unwrap(), item["region"].as_str().unwrap());
        if skip.contains(&(account, region)) {
            continue;
        }
        let event = json!({"mode": "scope", "run_id": plan["run_id"], "account": account, "region": region,
                           "holds_allowlist": item["holds_allowlist"], "dry_run": plan_event["dry_run"],
                           "remediate": plan_event["remediate"]});
        let answer = f.invoke(event).await.unwrap_or_else(|e| panic!("scope {account}/{region}: {e}\n{}", f.logs()));
        scopes.push(answer);
    }
    let aggregate = f.invoke(json!({"mode": "aggregate", "run_id": plan["run_id"]})).await;
    Steps { plan, scopes, aggregate }
}
