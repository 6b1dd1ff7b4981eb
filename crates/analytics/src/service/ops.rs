//! The 20 operations, one method each, in the wire types of `rheo_protocol::analytics`.
//! Every mutating operation checks, in this order [DECISION, plan §4.3]: the application
//! exists, the version is current, the status allows it, the business rules, the code;
//! then commits once.

use std::collections::BTreeMap;

use rheo_protocol::analytics::model::*;

use super::checks::{check_tags, RESERVED_TAG_PREFIX};
use super::{wire, Analytics, Deleting};
use crate::error::{AnalyticsError, Result};
use crate::lifecycle::{Action, Status};
use crate::limits::LIST_APPLICATIONS_LIMIT_DEFAULT;
use crate::state::{StoredApplication, STATE_FORMAT};

/// The element of `items` whose id is `id`, or ResourceNotFound naming it.
fn by_id<'a, T>(
    items: &'a mut [T],
    id: &str,
    of: impl Fn(&T) -> &str,
    application: &str,
    what: &'static str,
) -> Result<&'a mut T> {
    items.iter_mut().find(|item| of(item) == id).ok_or_else(|| AnalyticsError::ElementNotFound {
        application: application.to_owned(),
        what,
        id: id.to_owned(),
    })
}

/// Removes the element of `items` whose id is `id`, or fails with ResourceNotFound.
fn remove_by_id<T>(
    items: &mut Vec<T>,
    id: &str,
    of: impl Fn(&T) -> &str,
    application: &str,
    what: &'static str,
) -> Result<()> {
    let before = items.len();
    items.retain(|item| of(item) != id);
    if items.len() == before {
        return Err(AnalyticsError::ElementNotFound { application: application.to_owned(), what, id: id.to_owned() });
    }
    Ok(())
}

fn tag_map(tags: Vec<Tag>) -> BTreeMap<String, String> {
    tags.into_iter().map(|tag| (tag.key, tag.value.unwrap_or_default())).collect()
}

impl Analytics {
    /// CreateApplication: READY at version 1; elements get ids `1.1`, `1.2`, … per kind.
    pub async fn create_application(&self, request: CreateApplicationRequest) -> Result<CreateApplicationResponse> {
        let name = request.application_name;
        let tags = tag_map(request.tags.unwrap_or_default());
        check_tags(&BTreeMap::new(), &tags)?;
        let id = |ordinal: usize| StoredApplication::element_id(1, ordinal + 1);
        let now = self.now_ms();
        let app = StoredApplication {
            format: STATE_FORMAT,
            created_ms: now,
            updated_ms: now,
            version: 1,
            description: request.application_description,
            code: request.application_code.unwrap_or_default(),
            inputs: (request.inputs.unwrap_or_default().iter().enumerate())
                .map(|(n, input)| wire::input(input, id(n)))
                .collect::<Result<_>>()?,
            outputs: (request.outputs.unwrap_or_default().iter().enumerate())
                .map(|(n, output)| wire::output(output, id(n)))
                .collect::<Result<_>>()?,
            reference_sources: Vec::new(),
            logging_options: (request.cloud_watch_logging_options.unwrap_or_default().iter().enumerate())
                .map(|(n, option)| wire::logging_option(option, id(n)))
                .collect(),
            status: Status::Ready,
            transition: None,
            generation: 0,
            positions: BTreeMap::new(),
        };

        let _guard = self.control.lock().await;
        self.reap();
        if self.apps.read().contains_key(&name) || self.deleting.lock().contains_key(&name) {
            return Err(AnalyticsError::Exists { application: name });
        }
        let count = self.apps.read().len() + self.deleting.lock().len();
        if count >= self.config.application_limit {
            return Err(AnalyticsError::LimitExceeded(format!(
                "The account has {count} applications, its limit is {}.",
                self.config.application_limit
            )));
        }
        self.check_configuration(&app)?;
        let nothing = StoredApplication { inputs: Vec::new(), ..app.clone() };
        self.check_new_sources(&nothing, &app).await?;
        self.insert(&name, app, tags).await?;
        Ok(CreateApplicationResponse {
            application_summary: ApplicationSummary {
                application_arn: self.owner.application_arn(&name),
                application_name: name,
                application_status: ApplicationStatus::Ready,
            },
        })
    }

    /// DescribeApplication, DELETING applications included while they show.
    pub async fn describe_application(
        &self,
        request: DescribeApplicationRequest,
    ) -> Result<DescribeApplicationResponse> {
        let name = request.application_name;
        self.reap();
        let arn = self.owner.application_arn(&name);
        if let Some(deleting) = self.deleting.lock().get(&name) {
            let application_detail = wire::detail(&name, arn, &deleting.state, Status::Deleting);
            return Ok(DescribeApplicationResponse { application_detail });
        }
        let entry = self.entry(&name)?;
        let state = self.stored(&entry)?;
        let application_detail = wire::detail(&name, arn, &state, self.status(&entry, &state));
        Ok(DescribeApplicationResponse { application_detail })
    }

    /// ListApplications: by name, after `ExclusiveStartApplicationName`, `Limit` at a time.
    pub async fn list_applications(&self, request: ListApplicationsRequest) -> Result<ListApplicationsResponse> {
        let limit = request
            .limit
            .and_then(|limit| usize::try_from(limit).ok())
            .filter(|limit| *limit > 0)
            .unwrap_or(LIST_APPLICATIONS_LIMIT_DEFAULT);
        let after = request.exclusive_start_application_name;
        let mut page: Vec<_> = self
            .summaries()
            .into_iter()
            .filter(|summary| after.as_ref().is_none_or(|after| summary.name > *after))
            .take(limit + 1)
            .collect();
        let has_more_applications = page.len() > limit;
        page.truncate(limit);
        let application_summaries = page
            .into_iter()
            .map(|summary| ApplicationSummary {
                application_name: summary.name,
                application_arn: summary.arn,
                application_status: wire::status(summary.status),
            })
            .collect();
        Ok(ListApplicationsResponse { application_summaries, has_more_applications })
    }

    /// UpdateApplication: each update names an existing element by id; the code, if
    /// given, replaces the code.
    pub async fn update_application(&self, request: UpdateApplicationRequest) -> Result<UpdateApplicationResponse> {
        let name = request.application_name;
        let update = request.application_update;
        let application = name.clone();
        self.configure(&name, request.current_application_version_id, move |app, _| {
            let name = application.as_str();
            for change in update.input_updates.iter().flatten() {
                let input = by_id(&mut app.inputs, &change.input_id, |i| &i.id, name, "input")?;
                wire::apply_input_update(input, change)?;
            }
            for change in update.output_updates.iter().flatten() {
                let output = by_id(&mut app.outputs, &change.output_id, |o| &o.id, name, "output")?;
                wire::apply_output_update(output, change)?;
            }
            for change in update.reference_data_source_updates.iter().flatten() {
                let source =
                    by_id(&mut app.reference_sources, &change.reference_id, |r| &r.id, name, "reference data source")?;
                wire::apply_reference_update(source, change)?;
            }
            for change in update.cloud_watch_logging_option_updates.iter().flatten() {
                let id = &change.cloud_watch_logging_option_id;
                let option = by_id(&mut app.logging_options, id, |o| &o.id, name, "CloudWatch logging option")?;
                wire::apply_logging_update(option, change);
            }
            if let Some(code) = update.application_code_update {
                app.code = code;
            }
            Ok(())
        })
        .await?;
        Ok(UpdateApplicationResponse {})
    }

    /// DeleteApplication: `CreateTimestamp` must be the application's; a running
    /// application stops at once, without draining.
    pub async fn delete_application(&self, request: DeleteApplicationRequest) -> Result<DeleteApplicationResponse> {
        self.detached(move |this| async move { this.delete_application_now(request).await }).await
    }

    async fn delete_application_now(&self, request: DeleteApplicationRequest) -> Result<DeleteApplicationResponse> {
        let name = request.application_name;
        let _guard = self.control.lock().await;
        let entry = self.entry(&name)?;
        let state = self.stored(&entry)?;
        if !wire::same_create_timestamp(request.create_timestamp, state.created_ms) {
            return Err(AnalyticsError::CreateTimestampMismatch { application: name });
        }
        self.check_status(&entry, &state, Action::Delete)?;
        self.log.delete_stream(entry.stream_id).await?;
        self.apps.write().remove(&name);
        let until_ms = self.now_ms().saturating_add(self.config.transition_ms);
        self.abandon_run(&entry);
        self.deleting.lock().insert(name.clone(), Deleting { until_ms, state, entry });
        tracing::info!(message = "Analytics application deleted.", application = %name);
        Ok(DeleteApplicationResponse {})
    }

    /// StartApplication: every input named once with its starting position.
    pub async fn start_application(&self, request: StartApplicationRequest) -> Result<StartApplicationResponse> {
        self.detached(move |this| async move { this.start_application_now(request).await }).await
    }

    async fn start_application_now(&self, request: StartApplicationRequest) -> Result<StartApplicationResponse> {
        let name = request.application_name;
        let _guard = self.control.lock().await;
        let entry = self.entry(&name)?;
        let state = self.stored(&entry)?;
        self.check_status(&entry, &state, Action::Start)?;
        let mut named = BTreeMap::new();
        for configuration in request.input_configurations {
            if !state.inputs.iter().any(|input| input.id == configuration.id) {
                return Err(AnalyticsError::ElementNotFound { application: name, what: "input", id: configuration.id });
            }
            let position =
                wire::starting_position(configuration.input_starting_position_configuration.input_starting_position);
            named.insert(configuration.id, position);
        }
        self.check_start(&entry, &state, &named)?;
        self.start_run(&entry, named).await?;
        Ok(StartApplicationResponse {})
    }

    /// StopApplication: STOPPING until the run has drained its outputs and saved its
    /// positions (LAST_STOPPED_POINT), then READY.
    pub async fn stop_application(&self, request: StopApplicationRequest) -> Result<StopApplicationResponse> {
        self.detached(move |this| async move { this.stop_application_now(request).await }).await
    }

    async fn stop_application_now(&self, request: StopApplicationRequest) -> Result<StopApplicationResponse> {
        let _guard = self.control.lock().await;
        let entry = self.entry(&request.application_name)?;
        let state = self.stored(&entry)?;
        self.check_status(&entry, &state, Action::Stop)?;
        self.stop_run(&entry).await?;
        Ok(StopApplicationResponse {})
    }

    /// AddApplicationInput: the one input (id `<new version>.1`); the code is checked again.
    pub async fn add_application_input(
        &self,
        request: AddApplicationInputRequest,
    ) -> Result<AddApplicationInputResponse> {
        let input = request.input;
        self.configure(&request.application_name, request.current_application_version_id, move |app, version| {
            app.inputs.push(wire::input(&input, StoredApplication::element_id(version, 1))?);
            Ok(())
        })
        .await?;
        Ok(AddApplicationInputResponse {})
    }

    /// AddApplicationInputProcessingConfiguration: stored and described; a start refuses
    /// it, as does a change to a running application (Rheo runs no Lambda).
    pub async fn add_application_input_processing_configuration(
        &self,
        request: AddApplicationInputProcessingConfigurationRequest,
    ) -> Result<AddApplicationInputProcessingConfigurationResponse> {
        let name = request.application_name.clone();
        let (input_id, lambda) = (request.input_id, request.input_processing_configuration.input_lambda_processor);
        self.configure(&request.application_name, request.current_application_version_id, move |app, _| {
            let input = by_id(&mut app.inputs, &input_id, |i| &i.id, &name, "input")?;
            if input.lambda_processor.is_some() {
                return Err(AnalyticsError::InvalidArgument(format!(
                    "Input {input_id} already has an InputProcessingConfiguration."
                )));
            }
            input.lambda_processor = Some(crate::state::Resource {
                kind: crate::state::ResourceKind::Lambda,
                resource_arn: lambda.resource_arn,
                role_arn: lambda.role_arn,
            });
            Ok(())
        })
        .await?;
        Ok(AddApplicationInputProcessingConfigurationResponse {})
    }

    /// DeleteApplicationInputProcessingConfiguration.
    pub async fn delete_application_input_processing_configuration(
        &self,
        request: DeleteApplicationInputProcessingConfigurationRequest,
    ) -> Result<DeleteApplicationInputProcessingConfigurationResponse> {
        let name = request.application_name.clone();
        let input_id = request.input_id;
        self.configure(&request.application_name, request.current_application_version_id, move |app, _| {
            let input = by_id(&mut app.inputs, &input_id, |i| &i.id, &name, "input")?;
            if input.lambda_processor.take().is_none() {
                return Err(AnalyticsError::ElementNotFound {
                    application: name,
                    what: "input processing configuration",
                    id: input_id,
                });
            }
            Ok(())
        })
        .await?;
        Ok(DeleteApplicationInputProcessingConfigurationResponse {})
    }

    /// AddApplicationOutput: id `<new version>.1`; the code must create the stream it names.
    pub async fn add_application_output(
        &self,
        request: AddApplicationOutputRequest,
    ) -> Result<AddApplicationOutputResponse> {
        let output = request.output;
        self.configure(&request.application_name, request.current_application_version_id, move |app, version| {
            app.outputs.push(wire::output(&output, StoredApplication::element_id(version, 1))?);
            Ok(())
        })
        .await?;
        Ok(AddApplicationOutputResponse {})
    }

    /// DeleteApplicationOutput.
    pub async fn delete_application_output(
        &self,
        request: DeleteApplicationOutputRequest,
    ) -> Result<DeleteApplicationOutputResponse> {
        let name = request.application_name.clone();
        let id = request.output_id;
        self.configure(&request.application_name, request.current_application_version_id, move |app, _| {
            remove_by_id(&mut app.outputs, &id, |o| &o.id, &name, "output")
        })
        .await?;
        Ok(DeleteApplicationOutputResponse {})
    }

    /// AddApplicationReferenceDataSource: stored and described (used from part 2 on).
    pub async fn add_application_reference_data_source(
        &self,
        request: AddApplicationReferenceDataSourceRequest,
    ) -> Result<AddApplicationReferenceDataSourceResponse> {
        let source = request.reference_data_source;
        self.configure(&request.application_name, request.current_application_version_id, move |app, version| {
            app.reference_sources.push(wire::reference_source(&source, StoredApplication::element_id(version, 1))?);
            Ok(())
        })
        .await?;
        Ok(AddApplicationReferenceDataSourceResponse {})
    }

    /// DeleteApplicationReferenceDataSource.
    pub async fn delete_application_reference_data_source(
        &self,
        request: DeleteApplicationReferenceDataSourceRequest,
    ) -> Result<DeleteApplicationReferenceDataSourceResponse> {
        let name = request.application_name.clone();
        let id = request.reference_id;
        self.configure(&request.application_name, request.current_application_version_id, move |app, _| {
            remove_by_id(&mut app.reference_sources, &id, |r| &r.id, &name, "reference data source")
        })
        .await?;
        Ok(DeleteApplicationReferenceDataSourceResponse {})
    }

    /// AddApplicationCloudWatchLoggingOption: stored and described (Rheo logs through
    /// `tracing`, not CloudWatch).
    pub async fn add_application_cloud_watch_logging_option(
        &self,
        request: AddApplicationCloudWatchLoggingOptionRequest,
    ) -> Result<AddApplicationCloudWatchLoggingOptionResponse> {
        let option = request.cloud_watch_logging_option;
        self.configure(&request.application_name, request.current_application_version_id, move |app, version| {
            app.logging_options.push(wire::logging_option(&option, StoredApplication::element_id(version, 1)));
            Ok(())
        })
        .await?;
        Ok(AddApplicationCloudWatchLoggingOptionResponse {})
    }

    /// DeleteApplicationCloudWatchLoggingOption.
    pub async fn delete_application_cloud_watch_logging_option(
        &self,
        request: DeleteApplicationCloudWatchLoggingOptionRequest,
    ) -> Result<DeleteApplicationCloudWatchLoggingOptionResponse> {
        let name = request.application_name.clone();
        let id = request.cloud_watch_logging_option_id;
        self.configure(&request.application_name, request.current_application_version_id, move |app, _| {
            remove_by_id(&mut app.logging_options, &id, |o| &o.id, &name, "CloudWatch logging option")
        })
        .await?;
        Ok(DeleteApplicationCloudWatchLoggingOptionResponse {})
    }

    /// The live application an application ARN names; a malformed ARN is an invalid
    /// argument, an unknown application not found.
    fn tagged_entry(&self, arn: &str) -> Result<std::sync::Arc<super::Entry>> {
        let name = self
            .owner
            .resource_name(arn, "kinesisanalytics", "application")
            .ok_or_else(|| AnalyticsError::InvalidArgument(format!("{arn} is not an application ARN of this Rheo.")))?;
        self.entry(name)
    }

    /// TagResource: tags do not change the version [DECISION, plan §4.3].
    pub async fn tag_resource(&self, request: TagResourceRequest) -> Result<TagResourceResponse> {
        let added = tag_map(request.tags);
        let _guard = self.control.lock().await;
        let entry = self.tagged_entry(&request.resource_arn)?;
        check_tags(&self.tags(&entry), &added)?;
        self.log
            .update_stream(entry.stream_id, move |txn| {
                txn.props_mut().tags.extend(added);
                Ok(())
            })
            .await?;
        Ok(TagResourceResponse {})
    }

    /// UntagResource: keys not present are ignored; reserved keys are refused.
    pub async fn untag_resource(&self, request: UntagResourceRequest) -> Result<UntagResourceResponse> {
        if let Some(key) = request.tag_keys.iter().find(|key| key.starts_with(RESERVED_TAG_PREFIX)) {
            return Err(AnalyticsError::InvalidArgument(format!(
                "Tag key {key} uses the reserved prefix {RESERVED_TAG_PREFIX}."
            )));
        }
        let keys = request.tag_keys;
        let _guard = self.control.lock().await;
        let entry = self.tagged_entry(&request.resource_arn)?;
        self.log
            .update_stream(entry.stream_id, move |txn| {
                for key in &keys {
                    txn.props_mut().tags.remove(key);
                }
                Ok(())
            })
            .await?;
        Ok(UntagResourceResponse {})
    }

    /// ListTagsForResource.
    pub async fn list_tags_for_resource(
        &self,
        request: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResponse> {
        let entry = self.tagged_entry(&request.resource_arn)?;
        let tags = self.tags(&entry).into_iter().map(|(key, value)| Tag { key, value: Some(value) }).collect();
        Ok(ListTagsForResourceResponse { tags: Some(tags) })
    }

    /// DiscoverInputSchema.
    pub async fn discover_input_schema(
        &self,
        request: DiscoverInputSchemaRequest,
    ) -> Result<DiscoverInputSchemaResponse> {
        crate::discover::discover(self, request).await
    }
}
