import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditService, Caller, type Principal } from '@danube/auth';
import { WorkflowsService } from '@danube/dag';
import { IdPipe } from '../http/id.pipe';
import { page } from '../http/page.query';
import { CreateWorkflowDto, ListWorkflowsQuery, toNewWorkflow } from './workflow.dto';
import { WorkflowGraphResponse, WorkflowPage, WorkflowResponse } from './workflow-response.dto';

@ApiTags('workflows')
@Controller('v1/workflows')
export class WorkflowsController {
  constructor(
    private readonly workflows: WorkflowsService,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Submit a workflow: nodes with dependsOn, or a chain from start_node via next_node',
  })
  @ApiCreatedResponse({ type: WorkflowResponse })
  async create(
    @Body() dto: CreateWorkflowDto,
    @Caller() caller: Principal,
  ): Promise<WorkflowResponse> {
    const submitted = await this.workflows.submit({ ...toNewWorkflow(dto), tenant: caller.tenant });
    await this.audit.record(caller, 'workflow.submit', `workflow/${submitted.workflow.id}`, {
      nodes: submitted.nodes.length,
    });
    return WorkflowResponse.of(submitted);
  }

  @Get()
  @ApiOkResponse({ type: WorkflowPage })
  async list(
    @Query() query: ListWorkflowsQuery,
    @Caller() caller: Principal,
  ): Promise<WorkflowPage> {
    const limit = query.limit ?? 50;
    const items = await this.workflows.list({
      tenant: caller.tenant,
      status: query.status,
      before: query.cursor,
      limit,
    });
    return page(items, limit);
  }

  @Get(':id')
  @ApiOperation({ summary: "The workflow's status, node counts by status, and each node" })
  @ApiOkResponse({ type: WorkflowResponse })
  async get(
    @Param('id', IdPipe) id: string,
    @Caller() caller: Principal,
  ): Promise<WorkflowResponse> {
    return WorkflowResponse.of(await this.workflows.get(caller.tenant, id));
  }

  @Get(':id/graph')
  @ApiOperation({ summary: 'Nodes and edges with their states, for drawing' })
  @ApiOkResponse({ type: WorkflowGraphResponse })
  async graph(
    @Param('id', IdPipe) id: string,
    @Caller() caller: Principal,
  ): Promise<WorkflowGraphResponse> {
    return this.workflows.graph(caller.tenant, id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel: running nodes are stopped, nodes not yet started are skipped' })
  @ApiOkResponse({ type: WorkflowResponse })
  async cancel(
    @Param('id', IdPipe) id: string,
    @Caller() caller: Principal,
  ): Promise<WorkflowResponse> {
    const workflow = await this.workflows.cancel(caller.tenant, id);
    await this.audit.record(caller, 'workflow.cancel', `workflow/${id}`);
    return WorkflowResponse.of(workflow);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Run the failed and skipped nodes of a failed or cancelled workflow again',
  })
  @ApiOkResponse({ type: WorkflowResponse })
  async retry(
    @Param('id', IdPipe) id: string,
    @Caller() caller: Principal,
  ): Promise<WorkflowResponse> {
    const workflow = await this.workflows.retry(caller.tenant, id);
    await this.audit.record(caller, 'workflow.retry', `workflow/${id}`);
    return WorkflowResponse.of(workflow);
  }
}
