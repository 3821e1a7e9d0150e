# A fleet chosen by tag, started again on every release, spread over resources of at most
# 10,000 servers each. All of them share the provider's start-rate pacing.
terraform {
  required_providers {
    ecs = {
      source  = "terraform-provider-ecs/ecs"
      version = "~> 0.1"
    }
  }
}

variable "fleet" {
  description = "The fleet: every server tagged fleet = <this>."
  type        = string
  default     = "web"
}

variable "release" {
  description = "Release version; changing it starts every stopped server of the fleet again."
  type        = string
}

provider "ecs" {
  region = "cn-north-4"
}

# Read at plan time: the servers tagged now, sorted by id.
data "ecs_servers" "fleet" {
  tags = {
    fleet = var.fleet
  }
}

locals {
  server_ids = data.ecs_servers.fleet.ids
}

resource "ecs_batch_start" "fleet" {
  for_each = { for i, chunk in chunklist(local.server_ids, 10000) : tostring(i) => chunk }

  server_ids = each.value
  triggers = {
    release = var.release
  }

  timeouts {
    create = "45m"
  }
}

output "job_ids" {
  value = flatten([for k in sort(keys(ecs_batch_start.fleet)) : ecs_batch_start.fleet[k].job_ids])
}

output "failed_server_ids" {
  value = flatten([for r in values(ecs_batch_start.fleet) : r.failed_server_ids])
}
