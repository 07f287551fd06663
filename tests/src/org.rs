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
