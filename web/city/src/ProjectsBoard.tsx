// A team's projects board: pick or create a project, add tasks, and move them across the status columns —
// by dragging a card, or with its buttons (keyboard and screen readers). The database refuses illegal
// steps; the board shows its sentence.
import { useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { EmptyState, ErrorState, Field, LoadingState, useResource } from '../../shared/ui.tsx';

type Status = 'todo' | 'in_progress' | 'review' | 'done' | 'cancelled';
const COLUMNS: { status: Status; label: string }[] = [
  { status: 'todo', label: 'To do' },
  { status: 'in_progress', label: 'In progress' },
  { status: 'review', label: 'Review' },
  { status: 'done', label: 'Done' },
  { status: 'cancelled', label: 'Cancelled' },
];
const label = (status: Status) => COLUMNS.find((column) => column.status === status)!.label;
/** The steps the workflow allows from each status (as app.task_transition_allowed in SQL). */
const NEXT: Record<Status, Status[]> = {
  todo: ['in_progress', 'cancelled'],
  in_progress: ['review', 'todo', 'cancelled'],
  review: ['done', 'in_progress', 'cancelled'],
  done: [],
  cancelled: [],
};

export function ProjectsBoard({ api, teamId, version }: { api: ApiClient; teamId: string; version: number }) {
  const projects = useResource(() => expectOk(api.api.projects.$get({ query: { team_id: teamId } })), [teamId], version);
  const [projectId, setProjectId] = useState<string | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [newProject, setNewProject] = useState('');
  const [newTask, setNewTask] = useState('');
  const list = projects.data?.items;
  // a project just made is not in the list until its reload answers: keep it selected meanwhile (falling back to
  // the first project here made the board jump to another project, whose columns the test then dragged across)
  const justCreated = useRef<string | null>(null);
  useEffect(() => {
    if (!list || list.length === 0) return;
    if (list.some((p) => p.id === projectId)) {
      if (justCreated.current === projectId) justCreated.current = null;
      return;
    }
    if (projectId !== null && justCreated.current === projectId) return;
    setProjectId(list[0]!.id);
  }, [list, projectId]);

  const board = useResource(
    projectId ? () => expectOk(api.api.projects[':projectId'].tasks.$get({ param: { projectId } })) : null,
    [projectId],
    version,
  );

  const act = async (work: () => Promise<unknown>) => {
    setProblem(null);
    try {
      await work();
      board.reload();
    } catch (error) {
      setProblem(error);
    }
  };
  const move = (taskId: string, status: Status) =>
    act(() => expectOk(api.api.tasks[':taskId'].$patch({ param: { taskId }, json: { status } })));

  const createProject = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    try {
      const made = await expectOk(api.api.projects.$post({ json: { team_id: teamId, name: newProject } }));
      setNewProject('');
      justCreated.current = made.id;
      setProjectId(made.id);
      projects.reload();
    } catch (error) {
      setProblem(error);
    }
  };
  const createTask = (event: FormEvent) => {
    event.preventDefault();
    if (!projectId) return;
    void act(async () => {
      await expectOk(api.api.tasks.$post({ json: { project_id: projectId, title: newTask } }));
      setNewTask('');
    });
  };
  const drop = (status: Status) => (event: DragEvent) => {
    event.preventDefault();
    const taskId = event.dataTransfer.getData('text/plain');
    if (taskId) void move(taskId, status);
  };

  return (
    <section aria-labelledby="board-heading" className="board-view">
      <header className="channel-header">
        <h2 id="board-heading">Projects</h2>
      </header>
      {projects.status === 'loading' && !projects.data && <LoadingState label="Loading projects…" />}
      {projects.status === 'error' && <ErrorState title="Could not load the projects." error={projects.error} onRetry={projects.reload} />}
      <div className="board-toolbar">
        {list && list.length > 0 && (
          <Field label="Project">
            {({ id }) => (
              <select id={id} value={projectId ?? ''} onChange={(event) => setProjectId(event.target.value)}>
                {list.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <form onSubmit={(event) => void createProject(event)} className="inline-form">
          <Field label="New project name">
            {({ id }) => (
              <input id={id} value={newProject} maxLength={120} required onChange={(event) => setNewProject(event.target.value)} />
            )}
          </Field>
          <button type="submit">Create project</button>
        </form>
        {projectId && (
          <form onSubmit={createTask} className="inline-form">
            <Field label="New task title">
              {({ id }) => <input id={id} value={newTask} maxLength={200} required onChange={(event) => setNewTask(event.target.value)} />}
            </Field>
            <button type="submit">Add task</button>
          </form>
        )}
      </div>
      {problem !== null && <ErrorState title="That did not work." error={problem} />}
      {list && list.length === 0 && <EmptyState>No projects yet. A team owner or admin can create one.</EmptyState>}
      {board.status === 'error' && <ErrorState title="Could not load the board." error={board.error} onRetry={board.reload} />}
      {board.data && (
        <div className="board-columns">
          {COLUMNS.map((column) => {
            const tasks = board.data!.items.filter((task) => task.status === column.status);
            return (
              <section
                key={column.status}
                className="board-column"
                aria-label={`${column.label} (${tasks.length})`}
                onDragOver={(event) => event.preventDefault()}
                onDrop={drop(column.status)}
              >
                <h3>
                  {column.label} <span className="count">{tasks.length}</span>
                </h3>
                <ul>
                  {tasks.map((task) => (
                    <li
                      key={task.id}
                      className="task-card"
                      draggable
                      onDragStart={(event) => event.dataTransfer.setData('text/plain', task.id)}
                      aria-label={task.title}
                    >
                      <span className="task-title">{task.title}</span>
                      {task.labels.length > 0 && <span className="hint">{task.labels.join(', ')}</span>}
                      <span className="task-moves">
                        {NEXT[task.status].map((next) => (
                          <button
                            key={next}
                            type="button"
                            className="secondary"
                            onClick={() => void move(task.id, next)}
                            aria-label={`Move ${task.title} to ${label(next)}`}
                          >
                            → {label(next)}
                          </button>
                        ))}
                      </span>
                    </li>
                  ))}
                </ul>
              </section>
            );
          })}
        </div>
      )}
    </section>
  );
}
