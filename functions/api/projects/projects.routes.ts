// Projects: create one in a team, list a team's projects, rename or archive one, and a project's board
// (its tasks in column order).
import { z } from '@hono/zod-openapi';
import { conflict, notFound } from '../../_shared/errors.ts';
import { inRequestTransaction } from '../core/context.ts';
import { requireTeamCapability } from '../core/pep.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, Name, securedRoute, Text, Timestamp, Uuid } from '../core/route.ts';
import { findProject, insertProject, listProjects, listTasks, updateProject } from './projects.queries.ts';
import { Task } from './task.schemas.ts';

const Project = z
  .object({
    id: Uuid,
    team_id: Uuid,
    name: z.string(),
    description: z.string().nullable(),
    archived_at: Timestamp.nullable(),
    created_by: Uuid,
    created_at: Timestamp,
  })
  .openapi('Project');

const CreateProjectBody = z
  .strictObject({ team_id: Uuid, name: Name(120), description: Text(4000).nullable().optional() })
  .openapi('CreateProject', { example: { team_id: '00000000-0000-4000-8000-0000000d3a00', name: 'Solar roofs', description: null } });
const UpdateProjectBody = z
  .strictObject({ name: Name(120).optional(), description: Text(4000).nullable().optional(), archived: z.boolean().optional() })
  .refine((body) => Object.keys(body).length > 0, { message: 'must change at least one of name, description, archived' })
  .openapi('UpdateProject', { example: { name: 'Solar roofs 2027', archived: false } });
const ListProjectsQuery = z.strictObject({
  team_id: Uuid,
  include_archived: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true')
    .openapi({ type: 'string', enum: ['true', 'false'] }),
});
const ProjectPath = z.strictObject({ projectId: Uuid.openapi({ param: { name: 'projectId', in: 'path' } }) });

export const projectNotFound = () =>
  notFound('project_not_found', "No project with this id is visible to you; list your team's projects with GET /api/projects?team_id=….");
const nameTaken = (name: string) => conflict('project_name_taken', `The team already has a project named "${name}"; pick another name.`);

const createProject = securedRoute('project.manage', {
  method: 'post',
  path: '/',
  tags: ['projects'],
  summary: 'Create a project in one of my teams',
  request: { body: jsonBody(CreateProjectBody, 'The new project') },
  responses: { 201: jsonResponse(Project, 'The project'), ...errorResponses(404, 409) },
});

const listTeamProjects = securedRoute('project.read', {
  method: 'get',
  path: '/',
  tags: ['projects'],
  summary: "A team's projects, by name",
  request: { query: ListProjectsQuery },
  responses: { 200: jsonResponse(z.object({ items: z.array(Project) }), 'The projects'), ...errorResponses(400, 404) },
});

const changeProject = securedRoute('project.manage', {
  method: 'patch',
  path: '/{projectId}',
  tags: ['projects'],
  summary: 'Rename, describe, archive or unarchive a project',
  request: { params: ProjectPath, body: jsonBody(UpdateProjectBody, 'What changes') },
  responses: { 200: jsonResponse(Project, 'The project'), ...errorResponses(404, 409) },
});

const projectBoard = securedRoute('project.read', {
  method: 'get',
  path: '/{projectId}/tasks',
  tags: ['projects'],
  summary: "A project's tasks in board order (status column, then position)",
  request: { params: ProjectPath },
  responses: { 200: jsonResponse(z.object({ project: Project, items: z.array(Task) }), 'The board'), ...errorResponses(400, 404) },
});

export const projectRoutes = createRouter()
  .openapi(createProject, async (c) => {
    const { team_id: teamId, name, description } = c.req.valid('json');
    const project = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      await requireTeamCapability(tx, teamId, 'project.manage');
      const project = await insertProject(tx, { teamId, name, description: description ?? null });
      if (!project) throw nameTaken(name);
      return project;
    });
    return c.json(project, 201);
  })
  .openapi(listTeamProjects, async (c) => {
    const { team_id: teamId, include_archived: includeArchived } = c.req.valid('query');
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return listProjects(tx, teamId, includeArchived);
    });
    return c.json({ items }, 200);
  })
  .openapi(changeProject, async (c) => {
    const { projectId } = c.req.valid('param');
    const change = c.req.valid('json');
    const project = await inRequestTransaction(c, async (tx) => {
      const current = await findProject(tx, projectId);
      if (!current) throw projectNotFound();
      await requireTeamCapability(tx, current.team_id, 'project.manage');
      if (change.name && change.name !== current.name) {
        const [clash] = await tx`select 1 from public.projects where team_id = ${current.team_id} and name = ${change.name}`;
        if (clash) throw nameTaken(change.name);
      }
      return (await updateProject(tx, projectId, change))!;
    });
    return c.json(project, 200);
  })
  .openapi(projectBoard, async (c) => {
    const { projectId } = c.req.valid('param');
    const board = await inRequestTransaction(c, async (tx) => {
      const project = await findProject(tx, projectId);
      if (!project) throw projectNotFound();
      return { project, items: await listTasks(tx, projectId) };
    });
    return c.json(board, 200);
  });
