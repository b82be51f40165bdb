"""Composition root of the router service (TaskRouter and Flex Interactions)."""

from pathlib import Path

from services.router.api.activities import activities_router
from services.router.api.events import events_router
from services.router.api.flex_configuration import flex_configuration_router
from services.router.api.flex_flows import flex_flows_router
from services.router.api.flows import flows_router
from services.router.api.interactions import interactions_router
from services.router.api.statistics import statistics_router
from services.router.api.task_channels import task_channels_router
from services.router.api.task_queues import task_queues_router
from services.router.api.tasks import tasks_router
from services.router.api.web_channels import web_channels_router
from services.router.api.workers import workers_router
from services.router.api.workflows import workflows_router
from services.router.api.workspaces import workspaces_router
from services.router.engine.assignment_callbacks import assignment_callbacks_consumer
from services.router.engine.dispatcher import Dispatcher
from services.router.engine.timers import Timers
from services.router.flows.runner import FlowRunner, flow_messages_consumer
from services.router.handlers.customer_messages import customer_messages_consumer
from services.router.handlers.references import references_server
from shared.rpc import RpcClient
from shared.runtime import ServiceContext, ServiceDefinition, ServiceParts


def build(context: ServiceContext) -> ServiceParts:
    settings = context.settings
    base = settings.external_base_url()
    dispatcher = Dispatcher(context.pool, base=base, poll_interval=settings.poll_interval_seconds)
    timers = Timers(context.pool, base=base, poll_interval=settings.poll_interval_seconds)
    rpc = RpcClient(context.broker)  # Flex Interactions ask conversations; assignment callbacks ask webhooks
    return ServiceParts(
        # Statistics first: `Workers/Statistics` must not be taken for a worker SID.
        routers=[statistics_router(context), workspaces_router(context), activities_router(context),
                 task_channels_router(context), workers_router(context), task_queues_router(context),
                 workflows_router(context), tasks_router(context), events_router(context),
                 interactions_router(context, rpc), flows_router(context),
                 # Flex Flows, Web Channels, Configuration
                 flex_flows_router(context, rpc), web_channels_router(context, rpc), flex_configuration_router(context)],
        consumers=[flow_messages_consumer(context, rpc),  # studio-type addresses run their flow here
                   assignment_callbacks_consumer(context, rpc),
                   customer_messages_consumer(context)],  # a customer writing in a Flex channel nobody holds
        loops=[dispatcher.run, timers.run, FlowRunner(context, rpc).run_timeouts,  # flows waiting for a reply
               references_server(context).run],  # agents, tokens and studio addresses naming our SIDs
        on_stop=[rpc.close],
    )


SERVICE = ServiceDefinition(name="router", migrations=Path(__file__).parent / "migrations", build=build)
