resource "ecs_batch_stop" "web" {
  server_ids = [
    "616fb98f-46ca-475e-917e-2563e5a8cd19",
    "6a1b7f6e-0b4f-4b9b-8f4a-0d3c2f1e9a77",
  ]

  # Ask each guest OS to shut down; power off those still running 5 minutes later.
  force_after = "5m"

  timeouts {
    create = "15m"
  }
}

output "web_forced_server_ids" {
  value = ecs_batch_stop.web.forced_server_ids
}
