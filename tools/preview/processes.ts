/**
 * The child processes a preview starts (the program's capture process, the policy pack) must not outlive
 * it, whatever way it ends: normal completion, an error, or Ctrl-C / SIGTERM. Each child is tracked from
 * spawn until it is reaped; signal handlers are installed only while there is something to clean up, so
 * a library user's own handlers keep working otherwise.
 */
import type { ChildProcess } from "node:child_process";

const children = new Set<ChildProcess>();

function killAll(): void {
    for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
}

function onSignal(signal: NodeJS.Signals): void {
    killAll();
    // The conventional exit status of a process ended by a signal.
    process.exit(128 + (signal === "SIGINT" ? 2 : 15));
}

function install(): void {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    process.on("exit", killAll);
}

function uninstall(): void {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("exit", killAll);
}

/** Tracks a child until the returned function is called or the child exits. */
export function trackChild(child: ChildProcess): () => void {
    if (children.size === 0) install();
    children.add(child);
    const untrack = () => {
        if (!children.delete(child)) return;
        if (children.size === 0) uninstall();
    };
    child.once("exit", untrack);
    return untrack;
}
