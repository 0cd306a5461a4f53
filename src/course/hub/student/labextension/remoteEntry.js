// course-student-ui: the course hub's JupyterLab extension, in students' servers only.
//
//   1. JupyterLab opens on nbgrader's assignment list (not an empty Launcher), unless the student
//      already has documents open (a reload) or asked for one (/lab/tree/...): no stolen focus.
//   2. "(view feedback)" in the assignment list opens the feedback page itself. nbgrader's link
//      only runs `filebrowser:go-to-path` on <assignment>/feedback/<timestamp>; this extension
//      sees that command run (commandExecuted) and opens the folder's .html pages in JupyterLab's
//      HTML viewer (sandboxed: the page's CSS applies, no script runs).
//
// This file IS the source, hand-written, not built: JupyterLab 4 loads a prebuilt ("federated")
// extension by running `static/<load>` from its package.json, then
// `window._JUPYTERLAB[name].init(shareScope)` and `(await window._JUPYTERLAB[name].get("./extension"))()`,
// whose `default` is the list of plugins (see jupyterlab's bootstrap.js and
// jupyterlab_server.config.get_federated_extensions). The plugins ask for no tokens and import
// nothing: they use only `app.commands`, `app.shell`, `app.restored` and `app.serviceManager`.
// `course hub` copies it under <state>/jupyter/student/data/labextensions/course-student-ui/
// (course.hub.student.install) with a package.json naming it by its content hash.
(function () {
  'use strict';

  const NAME = 'course-student-ui';
  const OPEN_ASSIGNMENT_LIST = 'nbgrader:open-assignment-list';   // nbgrader 0.9's lab extension

  function isLauncher(widget) {
    return widget.node.querySelector('.jp-Launcher') !== null;
  }

  function whenCommand(app, id, timeoutMs) {
    // nbgrader's plugin adds the command when it activates; usually long before app.restored
    if (app.commands.hasCommand(id)) {
      return Promise.resolve(true);
    }
    return new Promise(resolve => {
      const added = (_, change) => {
        if (change.id === id && change.type === 'added') {
          app.commands.commandChanged.disconnect(added);
          resolve(true);
        }
      };
      app.commands.commandChanged.connect(added);
      setTimeout(() => {
        app.commands.commandChanged.disconnect(added);
        resolve(app.commands.hasCommand(id));
      }, timeoutMs);
    });
  }

  const assignmentListOnStart = {
    id: NAME + ':assignment-list-on-start',
    description: 'Opens the nbgrader assignment list when JupyterLab starts with no document open.',
    autoStart: true,
    activate: app => {
      if (window.location.pathname.includes('/lab/tree/')) {
        return;   // the student asked for a document by its address
      }
      void app.restored.then(async () => {
        const documents = Array.from(app.shell.widgets('main')).filter(w => !isLauncher(w));
        if (documents.some(w => w.id !== 'nbgrader-assignment-list')) {
          return;   // a reload with documents open: leave the student where they were
        }
        if (await whenCommand(app, OPEN_ASSIGNMENT_LIST, 10000)) {
          await app.commands.execute(OPEN_ASSIGNMENT_LIST);   // opens (or shows) and activates it
        }
      });
    }
  };

  // <assignment>/feedback/<timestamp>, as nbgrader's assignment list gives it (relative to the
  // server's root); a trailing slash or a leading one is accepted
  const FEEDBACK_FOLDER = /^\/?(?:[^/]+\/)+feedback\/[^/]+\/?$/;

  async function openFeedbackPages(app, folder) {
    const path = folder.replace(/^\/+|\/+$/g, '');
    const listing = await app.serviceManager.contents.get(path, { content: true });
    const pages = (listing.content || []).filter(
      item => item.type === 'file' && /\.html?$/i.test(item.name)
    );
    for (const page of pages) {
      await app.commands.execute('docmanager:open', { path: page.path, factory: 'HTML Viewer' });
    }
  }

  const feedbackPage = {
    id: NAME + ':feedback-page',
    description: 'Opens the feedback page when the assignment list shows a feedback folder.',
    autoStart: true,
    activate: app => {
      app.commands.commandExecuted.connect((_, executed) => {
        const path = executed.args && executed.args.path;
        if (executed.id !== 'filebrowser:go-to-path' || typeof path !== 'string' || !FEEDBACK_FOLDER.test(path)) {
          return;
        }
        openFeedbackPages(app, path).catch(error => console.error(`${NAME}: cannot open the feedback in ${path}`, error));
      });
    }
  };

  const plugins = [assignmentListOnStart, feedbackPage];

  // the module-federation container JupyterLab's loader expects; nothing shared, nothing needed
  window._JUPYTERLAB = window._JUPYTERLAB || {};
  window._JUPYTERLAB[NAME] = {
    init: () => undefined,
    get: module =>
      module === './extension'
        ? Promise.resolve(() => ({ __esModule: true, default: plugins }))
        : Promise.reject(new Error(`${NAME} has no module ${module}`))
  };
})();
