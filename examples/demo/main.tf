# The README's demo: starts every server of a local ecs-sim. `make demo` sets the variables.
terraform {
  required_providers {
    ecs = {
      source  = "terraform-provider-ecs/ecs"
      version = "0.1.0"
    }
  }
}

variable "endpoint" {
  description = "Base URL of ecs-sim (loopback http)."
  type        = string
}

variable "server_ids_file" {
  description = "File with one server id per line."
  type        = string
}

variable "release" {
  type    = string
  default = "demo-1"
}

provider "ecs" {
  region           = "cn-north-4"
  endpoints        = { ecs = var.endpoint, iam = var.endpoint }
  start_rate_limit = 0
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
}

output "job_ids" {
  value = flatten([for k in sort(keys(ecs_batch_start.fleet)) : ecs_batch_start.fleet[k].job_ids])
}

output "started" {
  value = sum([for r in values(ecs_batch_start.fleet) : length(r.started_server_ids)])
}

output "skipped" {
  value = sum([for r in values(ecs_batch_start.fleet) : length(r.skipped_server_ids)])
}

output "failed" {
  value = sum([for r in values(ecs_batch_start.fleet) : length(r.failed_server_ids)])
}
