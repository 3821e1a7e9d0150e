//! The `ecs` provider itself: the provider block (its fields and schema), `configure`, and
//! the registry of resources. What `configure` builds is shared with every resource.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{Attribute, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{map, Diagnostics, DynamicDataSource, DynamicResource, Provider};
use tokio_util::sync::CancellationToken;

use super::attributes::optional;
use super::batch_reboot::BatchRebootResource;
use super::batch_start::BatchStartResource;
use super::batch_stop::BatchStopResource;
use super::config;
use super::servers::ServersDataSource;
use crate::api::EcsClient;
use crate::power::Pacers;

/// The `provider "ecs"` block, one field per attribute.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ProviderConfig {
    pub region: Value<String>,
    pub project_id: Value<String>,
    pub access_key: Value<String>,
    pub secret_key: Value<String>,
    pub security_token: Value<String>,
    pub endpoints: Value<BTreeMap<String, Value<String>>>,
    pub insecure: Value<bool>,
    pub max_retries: Value<i64>,
    pub start_rate_limit: Value<i64>,
    pub stop_rate_limit: Value<i64>,
    pub reboot_rate_limit: Value<i64>,
    pub shared_config_file: Value<String>,
    pub profile: Value<String>,
    pub assume_role: super::credentials::AssumeRoleBlocks,
    pub cacert_file: Value<String>,
    pub cert: Value<String>,
    pub key: Value<String>,
}

/// What `configure` produced, shared by every resource of this provider instance.
#[derive(Clone)]
pub struct Configured {
    pub client: EcsClient,
    /// One set of pacers per provider configuration: all its resources share each
    /// operation's rate.
    pub pacers: Arc<Pacers>,
}

/// State shared between the provider and its resources. Resources exist before `configure`
/// runs, hence the lock.
#[derive(Default)]
pub struct Shared {
    configured: RwLock<Option<Configured>>,
    /// Cancelled on SIGINT/SIGTERM: waits stop and the job ids so far go to state.
    pub interrupt: CancellationToken,
}

impl Shared {
    pub fn configured(&self) -> Option<Configured> {
        self.configured
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_configured(&self, c: Configured) {
        *self.configured.write().unwrap_or_else(|e| e.into_inner()) = Some(c);
    }
}

pub struct EcsProvider {
    shared: Arc<Shared>,
}

impl EcsProvider {
    pub fn new(interrupt: CancellationToken) -> Self {
        Self {
            shared: Arc::new(Shared {
                configured: RwLock::new(None),
                interrupt,
            }),
        }
    }
}

/// The provider schema. Descriptions are the source of `docs/index.md`'s argument list.
pub fn provider_schema() -> Schema {
    use AttributeType::{Bool, Map, Number, String};
    Schema {
        version: 0,
        block: Block {
            version: 0,
            attributes: map! {
                "region" => optional(String,
                    "Region of the servers, such as `cn-north-4`. Falls back to `HW_REGION_NAME`, then to the profile's region. Required in one of them."),
                "project_id" => optional(String,
                    "Project id. Falls back to `HW_PROJECT_ID`; when both are absent it is looked up through IAM (`GET /v3/projects?name={region}`) at the first call that needs it."),
                "access_key" => optional(String,
                    "Access key (AK). Falls back to `HW_ACCESS_KEY`. Set with `secret_key`; without keys (and without a profile that has some) the provider reads the ECS instance metadata."),
                "secret_key" => Attribute {
                    sensitive: true,
                    ..optional(String, "Secret key (SK). Falls back to `HW_SECRET_KEY`. Set with `access_key`. Never logged or stored in state.")
                },
                "security_token" => Attribute {
                    sensitive: true,
                    ..optional(String, "Security token of temporary credentials, sent as `X-Security-Token`. Falls back to `HW_SECURITY_TOKEN`.")
                },
                "endpoints" => optional(Map(Box::new(String)),
                    "Endpoint overrides, keyed `ecs`, `iam`, `sts` and `metadata`, such as `{ ecs = \"https://ecs.example.com\" }`. Defaults: `https://ecs.{region}.myhuaweicloud.com`, `https://iam.{region}.myhuaweicloud.com`, `https://sts.{region}.myhuaweicloud.com` and the instance metadata `http://169.254.169.254`. `http://` is accepted for loopback hosts, for the metadata, or for any host with `insecure = true`."),
                "insecure" => optional(Bool,
                    "Skip TLS certificate verification and allow `http://` endpoints on any host. Default `false`."),
                "shared_config_file" => optional(String,
                    "KooCLI's config file (`~/.hcloud/config.json`, written in plaintext with `hcloud configure set --cli-auth-encrypt=false`). Falls back to `HW_SHARED_CONFIG_FILE`; the default file when only `profile` is set. Its profile's keys replace `access_key`, `secret_key` and `security_token`."),
                "profile" => optional(String,
                    "Profile of the shared config file (modes `AKSK`, `SSO` and `ecsAgency`). Falls back to `HW_PROFILE`, then to the file's `current` profile."),
                "cacert_file" => optional(String,
                    "CA certificates to trust instead of the system trust store: a PEM file's path or the PEM itself. Falls back to `OS_CACERT`. Without it the system store is used (honouring `SSL_CERT_FILE` and `SSL_CERT_DIR`)."),
                "cert" => optional(String,
                    "Client certificate for TLS (path or PEM), with `key`. Falls back to `OS_CERT`."),
                "key" => Attribute {
                    sensitive: true,
                    ..optional(String, "Private key of the client certificate (path or PEM), with `cert`. Falls back to `OS_KEY`. Never logged or stored in state.")
                },
                "max_retries" => optional(Number,
                    "How many times a failed API call is retried when the failure is transient (429, 5xx, connection errors). Default `5`."),
                "start_rate_limit" => optional(Number,
                    "Servers started per minute, shared by every `ecs_batch_start` of this provider configuration. Default `1000`, as Huawei documents; `0` turns pacing off."),
                "stop_rate_limit" => optional(Number,
                    "Servers stopped per minute, shared by every `ecs_batch_stop` of this provider configuration (the `HARD` stops of `force_after` included). Default `1000`, as Huawei documents; `0` turns pacing off. One setting per operation rather than one map, as Huawei documents one limit per operation: each is validated and documented on its own, and stops never wait for starts or reboots."),
                "reboot_rate_limit" => optional(Number,
                    "Servers rebooted per minute, shared by every `ecs_batch_reboot` of this provider configuration. Default `1000`, as Huawei documents; `0` turns pacing off. One setting per operation rather than one map, as Huawei documents one limit per operation: each is validated and documented on its own, and reboots never wait for starts or stops.")
            },
            blocks: map! { "assume_role" => super::credentials::assume_role_block() },
            description: Description::markdown(
                "Starts, stops and reboots fleets of Huawei Cloud ECS servers through the batch power APIs.",
            ),
            ..Default::default()
        },
    }
}

#[async_trait]
impl Provider for EcsProvider {
    type Config<'a> = ProviderConfig;
    type MetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(provider_schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::Config<'a>) -> Option<()> {
        config::validate(&config, diags);
        Some(())
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        terraform_version: String,
        config: Self::Config<'a>,
    ) -> Option<()> {
        let resolved = config::resolve(&config, &|k| std::env::var(k).ok(), diags)?;
        let pacers = Arc::new(Pacers::new(
            resolved.start_rate_limit,
            resolved.stop_rate_limit,
            resolved.reboot_rate_limit,
        ));
        let options = resolved.client_options();
        let client = resolved
            .into_client_config(&terraform_version)
            .and_then(|c| EcsClient::new_with_options(c, options).map_err(|e| e.to_string()));
        match client {
            Ok(client) => {
                self.shared.set_configured(Configured { client, pacers });
                Some(())
            }
            Err(e) => {
                diags.root_error("Cannot configure the ECS client", e);
                None
            }
        }
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        Some(map! {
            "batch_start" => BatchStartResource::new(self.shared.clone()),
            "batch_stop" => BatchStopResource::new(self.shared.clone()),
            "batch_reboot" => BatchRebootResource::new(self.shared.clone()),
            "power_state" => super::power_state::PowerStateResource::new(self.shared.clone())
        })
    }

    fn get_data_sources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicDataSource>>> {
        Some(map! {
            "servers" => ServersDataSource::new(self.shared.clone())
        })
    }
}
