resource "ecs_batch_reboot" "web" {
  server_ids = [
    "616fb98f-46ca-475e-917e-2563e5a8cd19",
    "6a1b7f6e-0b4f-4b9b-8f4a-0d3c2f1e9a77",
  ]

  # Reboot again on every release.
  triggers = {
    release = "2026.12"
  }
}

output "web_reboot_job_ids" {
  value = ecs_batch_reboot.web.job_ids
}
