//! `terraform-provider-ecs`: the plugin binary Terraform starts. It sets the process up
//! (`terraform_provider_ecs::plugin`) and serves the provider.

use tokio_util::sync::CancellationToken;

use terraform_provider_ecs::plugin;
use terraform_provider_ecs::provider::{EcsProvider, PROVIDER_NAME};

fn main() -> anyhow::Result<()> {
    let interrupt = CancellationToken::new();
    plugin::prepare(&interrupt)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        plugin::watch_process(interrupt.clone())?;
        tf_provider::serve(PROVIDER_NAME, EcsProvider::new(interrupt)).await
    })
}
