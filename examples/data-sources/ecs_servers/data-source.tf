# Every server tagged env=staging, except those tagged power=keep-off.
data "ecs_servers" "staging" {
  tags = {
    env = "staging"
  }
  not_tags = {
    power = "keep-off"
  }
}

# Start them, 10,000 per resource; none when nothing matches.
resource "ecs_batch_start" "staging" {
  for_each   = { for i, chunk in chunklist(data.ecs_servers.staging.ids, 10000) : tostring(i) => chunk }
  server_ids = each.value
}

output "staging_servers" {
  value = { for s in data.ecs_servers.staging.servers : s.id => s.name }
}
