terraform {
  required_providers {
    ecs = {
      source  = "terraform-provider-ecs/ecs"
      version = "~> 0.1"
    }
  }
}

# Credentials come from HW_ACCESS_KEY and HW_SECRET_KEY (plus HW_SECURITY_TOKEN for
# temporary credentials); the project id is looked up through IAM when not given.
provider "ecs" {
  region = "cn-north-4"
}
