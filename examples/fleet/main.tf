# A fleet chosen by a variable, started again on every release, spread over resources of at
# most 10,000 servers each. All of them share the provider's start-rate pacing.
terraform {
  required_providers {
    ecs = {
      source  = "terraform-provider-ecs/ecs"
      version = "~> 0.1"
    }
  }
}

variable "server_ids_file" {
  description = "File with one server id per line (large fleets belong in a file, not in a literal list)."
  type        = string
}

variable "release" {
  description = "Release version; changing it starts every stopped server of the fleet again."
  type        = string
}

provider "ecs" {
  region = "cn-north-4"
}

locals {
  server_ids = compact(split("\n", file(var.server_ids_file)))
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
