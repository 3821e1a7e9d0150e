# A fleet parked at night and started in the morning by two scheduled CI pipelines that
# differ only in one variable: TF_VAR_fleet_state=parked at 20:00, =running at 07:00.
terraform {
  required_providers {
    ecs = {
      source  = "terraform-provider-ecs/ecs"
      version = "~> 0.1"
    }
  }
}

variable "server_ids_file" {
  description = "File with one server id per line."
  type        = string
}

variable "fleet_state" {
  description = "\"parked\" (the nightly pipeline stops the fleet) or \"running\" (the morning pipeline starts it)."
  type        = string

  validation {
    condition     = contains(["parked", "running"], var.fleet_state)
    error_message = "The fleet_state value must be \"parked\" or \"running\"."
  }
}

variable "pipeline_id" {
  description = "The CI pipeline's id (such as CI_PIPELINE_ID): each pipeline stops or starts the fleet again, even on a second night in a row."
  type        = string
}

provider "ecs" {
  region = "cn-north-4"
}

locals {
  server_ids = compact(split("\n", file(var.server_ids_file)))
}

# Exists while the fleet is parked: ask each guest OS to shut down, power off those still
# running 10 minutes later.
resource "ecs_batch_stop" "park" {
  count = var.fleet_state == "parked" ? 1 : 0

  server_ids  = local.server_ids
  force_after = "10m"
  triggers = {
    pipeline = var.pipeline_id
  }
}

# Exists while the fleet runs.
resource "ecs_batch_start" "wake" {
  count = var.fleet_state == "running" ? 1 : 0

  server_ids = local.server_ids
  triggers = {
    pipeline = var.pipeline_id
  }
}

output "job_ids" {
  value = concat(flatten(ecs_batch_stop.park[*].job_ids), flatten(ecs_batch_start.wake[*].job_ids))
}

output "forced_server_ids" {
  value = flatten(ecs_batch_stop.park[*].forced_server_ids)
}
