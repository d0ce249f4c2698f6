/**
 * The code the browser bench runs inside the page, as strings so that it runs as written (no
 * bundler helpers), and without Playwright's polling sharing the page's main thread.
 */

/**
 * Clicks the stage buttons in turn, each time waiting for the page to confirm the move; a string so
 * that it runs in the page as written (no bundler helpers).
 */
export const saveLoop = (saves: number) => `(async (saves, stages) => {
  const confirmed = (text) => [...document.querySelectorAll('[role=status]')].some((status) => status.textContent.trim().startsWith(text));
  const until = (test) => new Promise((resolve) => {
    if (test()) return resolve();
    const observer = new MutationObserver(() => { if (test()) { observer.disconnect(); resolve(); } });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  for (let save = 0; save < saves; save++) {
    const stage = stages[save % stages.length];
    const button = [...document.querySelectorAll('button')].find((candidate) => candidate.textContent.trim() === stage);
    if (!button || button.disabled) continue;
    button.click();
    await until(() => confirmed('Moved to ' + stage));
    // As a person would: the next tap comes after the page has painted the last one.
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  }
})(${saves}, ['Proposal', 'Negotiation'])`;

/**
 * The baseline measured in the same run: bare IndexedDB transactions of one row like a saved deal's
 * update (add, commit, wait for it), in a database of their own, on the same page, paced like the
 * saves. What the browser and this machine take for a commit with no app around it.
 */
export const bareTransactions = (count: number) => `(async (count) => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open('bench-bare-transactions', 1);
    request.onupgradeneeded = () => request.result.createObjectStore('updates', { autoIncrement: true });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const durations = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const transaction = db.transaction('updates', 'readwrite', { durability: 'relaxed' });
    transaction.objectStore('updates').add({ room: 'bench', update: new Uint8Array(300), localChanges: [{ client: 1, clock: i }] });
    transaction.commit();
    await new Promise((resolve) => (transaction.oncomplete = resolve));
    durations.push(performance.now() - started);
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  }
  db.close();
  return durations;
})(${count})`;

/**
 * The other baseline: a bare journal append like a save's (src/lib/store/journal-worker.ts): a
 * dedicated worker writes one record to a file of the Origin Private File System through a sync
 * access handle and answers with when it was written; timed from the page's message to that moment.
 */
export const bareJournalAppends = (count: number) => `(async (count) => {
  const source = \`
    let handle, size = 0;
    onmessage = async (event) => {
      if (event.data === 'open') {
        const root = await navigator.storage.getDirectory();
        handle = await (await root.getFileHandle('bench-bare-journal', { create: true })).createSyncAccessHandle();
        handle.truncate(0);
        return postMessage('opened');
      }
      if (event.data === 'close') { handle.close(); return postMessage('closed'); }
      size += handle.write(event.data, { at: size });
      postMessage(performance.timeOrigin + performance.now());
      handle.flush(); // after answering, as the app's worker does
    };\`;
  const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
  const ask = (message) => new Promise((resolve) => { worker.onmessage = (event) => resolve(event.data); worker.postMessage(message); });
  await ask('open');
  const durations = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const at = await ask(new Uint8Array(320));
    durations.push(at - performance.timeOrigin - started);
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  }
  await ask('close');
  worker.terminate();
  return durations;
})(${count})`;

/**
 * In every page load: when the first row of a list was in the page (`inPage`), and when the frame
 * after it had been painted (`painted`: a task after that frame's animation callbacks); a string so
 * that it runs in the page as written.
 */
export const FIRST_ROWS_PROBE = `(() => {
  const observer = new MutationObserver(() => {
    if (!document.querySelector('main ul.list li a')) return;
    observer.disconnect();
    const inPage = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.firstRows = { inPage, painted: performance.now() }; }, 0));
  });
  observer.observe(document, { subtree: true, childList: true });
})()`;
