//! The API operations: one method of [`EcsClient`] per ECS call (and the IAM project lookup).
//! Each checks its arguments before anything is sent, builds its [`Call`] and reads the
//! answer's JSON; sending, retrying and classifying failures is the client's.

use reqwest::Method;
use serde::de::DeserializeOwned;

use super::client::EcsClient;
use super::error::{truncate_lossy, ApiError, MAX_RAW_BODY};
use super::models::{
    BatchRebootBody, BatchRebootOption, BatchStartBody, BatchStartOption, BatchStopBody,
    BatchStopOption, Job, JobIdResponse, ListServersResponse, PowerType, ProjectList, ServerDetail,
    ServerRef, ServerState, ServerStates, ShowServerResponse, MAX_IDS_PER_LIST,
    MAX_SERVERS_PER_ACTION,
};
use super::signer::encode_component;
use super::transport::{Answer, Call, Service};

impl EcsClient {
    /// `GET {iam}/v3/projects?name={region}`: exactly one project → its id, which the client
    /// then uses; zero or several → `ApiError::ProjectLookup`.
    pub async fn lookup_project_id(&self) -> Result<String, ApiError> {
        let region = self.region().trim().to_string();
        if region.is_empty() {
            return Err(ApiError::InvalidArgument(
                "cannot look up the project id: the region is empty".into(),
            ));
        }
        let call = Call {
            method: Method::GET,
            service: Service::Iam,
            path: "/v3/projects".to_string(),
            query: vec![("name".to_string(), region.clone())],
            body: Vec::new(),
        };
        let answer = self.execute(&call).await?;
        let list: ProjectList = self.parse_json(&call, &answer)?;
        let ids: Vec<String> = list.projects.into_iter().map(|p| p.id).collect();
        let id = the_one_project(&region, &ids)?;
        self.set_project_id(id.clone());
        tracing::debug!(region = %region, project_id = %id, "project id looked up");
        Ok(id)
    }

    /// `POST /v1/{project_id}/cloudservers/action` with `os-start`; 1..=1000 ids, else
    /// `ApiError::InvalidArgument`. Any 2xx with a non-empty `job_id` → the job id; a 2xx
    /// without one → `InvalidResponse`. Never re-sent once it may have reached the service
    /// (→ `OutcomeUnknown`).
    pub async fn batch_start(&self, server_ids: &[String]) -> Result<String, ApiError> {
        check_ids(server_ids, MAX_SERVERS_PER_ACTION, "a batch action")?;
        let body = BatchStartBody {
            os_start: BatchStartOption {
                servers: ServerRef::list(server_ids),
            },
        };
        self.batch_action(&body).await
    }

    /// `os-stop`, same rules as `batch_start`; `power_type` `None` sends no `type` (SOFT).
    pub async fn batch_stop(
        &self,
        server_ids: &[String],
        power_type: Option<PowerType>,
    ) -> Result<String, ApiError> {
        check_ids(server_ids, MAX_SERVERS_PER_ACTION, "a batch action")?;
        let body = BatchStopBody {
            os_stop: BatchStopOption {
                servers: ServerRef::list(server_ids),
                power_type,
            },
        };
        self.batch_action(&body).await
    }

    /// `reboot`, same rules as `batch_start`.
    pub async fn batch_reboot(
        &self,
        server_ids: &[String],
        power_type: PowerType,
    ) -> Result<String, ApiError> {
        check_ids(server_ids, MAX_SERVERS_PER_ACTION, "a batch action")?;
        let body = BatchRebootBody {
            reboot: BatchRebootOption {
                servers: ServerRef::list(server_ids),
                power_type,
            },
        };
        self.batch_action(&body).await
    }

    /// `GET /v1/{project_id}/jobs/{job_id}`.
    pub async fn show_job(&self, job_id: &str) -> Result<Job, ApiError> {
        if job_id.trim().is_empty() {
            return Err(ApiError::InvalidArgument("the job id is empty".into()));
        }
        let path = format!("{}/jobs/{}", self.project_path()?, encode_component(job_id));
        let call = Call::ecs_get(path, Vec::new());
        let answer = self.execute(&call).await?;
        self.parse_json(&call, &answer)
    }

    /// `GET /v1/{project_id}/cloudservers/detail?server_id=a,b,…` with 1..=100 ids (else
    /// `ApiError::InvalidArgument`): each server's [`ServerState`]. Unknown ids come back as
    /// entries with `is_missing()`.
    pub async fn list_servers_by_ids(
        &self,
        server_ids: &[String],
    ) -> Result<Vec<ServerState>, ApiError> {
        check_ids(server_ids, MAX_IDS_PER_LIST, "a server list")?;
        let path = format!("{}/cloudservers/detail", self.project_path()?);
        let call = Call::ecs_get(path, vec![("server_id".to_string(), server_ids.join(","))]);
        let answer = self.execute(&call).await?;
        let list: ServerStates = self.parse_json(&call, &answer)?;
        Ok(list.servers)
    }

    /// `GET /v1/{project_id}/cloudservers/detail?limit=&offset=` (offset is a page number,
    /// from 1).
    pub async fn list_servers_page(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<ListServersResponse, ApiError> {
        let path = format!("{}/cloudservers/detail", self.project_path()?);
        let query = vec![
            ("limit".to_string(), limit.to_string()),
            ("offset".to_string(), offset.to_string()),
        ];
        let call = Call::ecs_get(path, query);
        let answer = self.execute(&call).await?;
        self.parse_json(&call, &answer)
    }

    /// `GET /v1/{project_id}/cloudservers/{server_id}`.
    pub async fn show_server(&self, server_id: &str) -> Result<ServerDetail, ApiError> {
        if server_id.trim().is_empty() {
            return Err(ApiError::InvalidArgument("the server id is empty".into()));
        }
        let path = format!(
            "{}/cloudservers/{}",
            self.project_path()?,
            encode_component(server_id)
        );
        let call = Call::ecs_get(path, Vec::new());
        let answer = self.execute(&call).await?;
        let show: ShowServerResponse = self.parse_json(&call, &answer)?;
        Ok(show.server)
    }

    /// `/v1/{project_id}`, encoded; `InvalidArgument` when no project id is known.
    pub(super) fn project_path(&self) -> Result<String, ApiError> {
        match self.project_id() {
            Some(p) => Ok(format!("/v1/{}", encode_component(&p))),
            None => Err(ApiError::InvalidArgument(
                "no project id: set project_id or look it up from the region first".into(),
            )),
        }
    }

    async fn batch_action<B: serde::Serialize>(&self, body: &B) -> Result<String, ApiError> {
        let path = format!("{}/cloudservers/action", self.project_path()?);
        let body = serde_json::to_vec(body).map_err(|e| {
            ApiError::InvalidArgument(format!("cannot encode the action body: {e}"))
        })?;
        let call = Call {
            method: Method::POST,
            service: Service::Ecs,
            path,
            query: Vec::new(),
            body,
        };
        let answer = self.execute(&call).await?;
        self.job_id_of(&call, &answer)
    }

    /// The `job_id` of a batch action's 2xx answer; `InvalidResponse` when it has none.
    fn job_id_of(&self, call: &Call, answer: &Answer) -> Result<String, ApiError> {
        let status = answer.status;
        let invalid = |message| Err(self.invalid_answer(call, message, answer.request_id.clone()));
        if answer.body.iter().all(u8::is_ascii_whitespace) {
            return invalid(format!("HTTP {status} with an empty body: no job_id"));
        }
        let raw = || truncate_lossy(&answer.body, MAX_RAW_BODY);
        match json_object::<JobIdResponse>(&answer.body) {
            Err(e) => invalid(format!(
                "HTTP {status} with a body that is not a job answer ({e}): {}",
                raw()
            )),
            Ok(parsed) => match parsed.job_id.map(|j| j.trim().to_string()) {
                Some(job_id) if !job_id.is_empty() => Ok(job_id),
                _ => invalid(format!("HTTP {status} without a job_id: {}", raw())),
            },
        }
    }

    fn parse_json<T: DeserializeOwned>(&self, call: &Call, answer: &Answer) -> Result<T, ApiError> {
        json_object(&answer.body).map_err(|e| {
            let message = format!(
                "HTTP {} with a body that is not the expected JSON ({e}): {}",
                answer.status,
                truncate_lossy(&answer.body, MAX_RAW_BODY)
            );
            self.invalid_answer(call, message, answer.request_id.clone())
        })
    }
}

/// The id of the one project IAM returned for `region`.
fn the_one_project(region: &str, ids: &[String]) -> Result<String, ApiError> {
    let error = |message: String| {
        Err(ApiError::ProjectLookup {
            region: region.to_string(),
            message,
        })
    };
    match ids {
        [] => {
            error("IAM knows no project with this name; check the region or set project_id".into())
        }
        [id] if id.trim().is_empty() => error("IAM returned a project with an empty id".into()),
        [id] => Ok(id.trim().to_string()),
        several => error(format!(
            "IAM returned {} projects ({}); set project_id to choose one",
            several.len(),
            several.join(", ")
        )),
    }
}

fn check_ids(ids: &[String], max: usize, what: &str) -> Result<(), ApiError> {
    if ids.is_empty() || ids.len() > max {
        return Err(ApiError::InvalidArgument(format!(
            "{what} takes 1 to {max} server ids, got {}",
            ids.len()
        )));
    }
    if let Some(i) = ids.iter().position(|id| id.trim().is_empty()) {
        return Err(ApiError::InvalidArgument(format!(
            "{what}: server id number {} is empty",
            i + 1
        )));
    }
    Ok(())
}

/// Parses a body that must be a JSON object (serde would also fill a struct from an array).
/// The body is parsed once, straight into `T`: a job of 1000 sub-jobs is read a dozen times
/// a batch, and a tree of `serde_json::Value`s first would double the work and allocations.
fn json_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => Err("not a JSON object".to_string()),
            Err(e) => Err(e.to_string()),
        };
    }
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_json_object_is_an_answer() {
        #[derive(serde::Deserialize, Debug)]
        struct Answer {
            #[allow(dead_code)]
            job_id: String,
        }
        assert!(json_object::<Answer>(b" \n{\"job_id\": \"j\"}").is_ok());
        assert_eq!(
            json_object::<Answer>(b"[\"j\"]").unwrap_err(),
            "not a JSON object"
        );
        assert!(json_object::<Answer>(b"{\"job_id\": 1}").is_err());
        assert!(json_object::<Answer>(b"{\"job_id\": \"j\"").is_err());
        assert!(json_object::<Answer>(b"").is_err());
    }

    #[test]
    fn ids_are_bounded() {
        assert!(check_ids(&[], 10, "x").is_err());
        assert!(check_ids(&["a".to_string()], 10, "x").is_ok());
        assert!(check_ids(&vec!["a".to_string(); 11], 10, "x").is_err());
        assert!(check_ids(&["a".to_string(), " ".to_string()], 10, "x").is_err());
    }
}
