variable "parked" {
  description = "true at night (the fleet is kept stopped), false by day (kept running)."
  type        = bool
  default     = false
}

resource "ecs_power_state" "staging" {
  server_ids = [
    "616fb98f-46ca-475e-917e-2563e5a8cd19",
    "6a1b7f6e-0b4f-4b9b-8f4a-0d3c2f1e9a77",
  ]
  state = var.parked ? "stopped" : "running"

  # Stop gracefully; power off the servers still running 5 minutes later.
  force_after = "5m"

  timeouts {
    create = "30m"
    update = "30m"
  }
}

output "staging_drifted_server_ids" {
  value = ecs_power_state.staging.drifted_server_ids
}
