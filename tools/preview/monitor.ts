/**
 * The engine's side of a Pulumi program run, in-process: a resource monitor that receives the SDK's
 * RegisterResource/Invoke/RegisterResourceOutputs requests, records every registration with all of the
 * request's fields (the SDK's MockResourceArgs drop parent, dependencies, property dependencies and
 * options), computes URNs and default providers the way the engine does, and answers with the planned
 * state from provider.ts.
 */
import type { CapturedResource, ResourceOptions } from "./capture";
import { checkInputs, invoke, plannedState, UNKNOWN, type Wire } from "./provider";

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** The generated protobuf classes, loaded from the program's own copy of @pulumi/pulumi. */
export interface ProtoModules {
    Struct: { fromJavaScript(value: Wire): unknown };
    RegisterResourceResponse: new () => { setUrn(v: string): void; setId(v: string): void; setObject(v: unknown): void };
    ReadResourceResponse: new () => { setUrn(v: string): void; setProperties(v: unknown): void };
    InvokeResponse: new () => { setReturn(v: unknown): void };
    RegisterPackageResponse: new () => { setRef(v: string): void };
}

interface StructLike {
    toJavaScript(): Wire;
}
interface Callback {
    (err: unknown, response?: unknown): void;
}
/* Only the getters of the request messages this monitor reads. */
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getObject(): StructLike | undefined;
    hasProtect(): boolean;
    getProtect(): boolean | undefined;
    getDependenciesList(): string[];
    getProvider(): string;
    getPropertydependenciesMap(): { entries(): Iterable<[string, { getUrnsList(): string[] }]> };
    getDeletebeforereplace(): boolean;
    getDeletebeforereplacedefined(): boolean;
    getVersion(): string;
    getIgnorechangesList(): string[];
    getAdditionalsecretoutputsList(): string[];
    getAliasurnsList(): string[];
    getAliasesList(): AliasMessage[];
    getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
    getReplaceonchangesList(): string[];
    hasRetainondelete(): boolean;
    getRetainondelete(): boolean | undefined;
}
interface AliasMessage {
    hasUrn(): boolean;
    getUrn(): string;
    getSpec(): {
        getName(): string;
        getType(): string;
        getStack(): string;
        getProject(): string;
        getParenturn(): string;
        getNoparent(): boolean;
    } | undefined;
}

export class EngineMonitor {
    readonly resources: CapturedResource[] = [];
    stackOutputs: Wire = {};
    /**
     * Invokes that failed. The engine reports a failed invoke as an error of the run; the SDK alone may
     * not (an output-returning invoke's failure stalls whatever awaits it), so the run checks this list.
     */
    readonly invokeErrors: string[] = [];
    private readonly byUrn = new Map<string, CapturedResource>();
    private readonly defaultProviders = new Map<string, string>();

    constructor(
        private readonly proto: ProtoModules,
        private readonly project: string,
        private readonly stack: string,
        private readonly dryRun: boolean,
        private readonly config: Record<string, string>,
        /** Told of each resource as it registers, before the program finishes. */
        private readonly onRecord?: (resource: CapturedResource) => void,
    ) {}

    private get region(): string {
        return this.config["aws:region"] ?? "us-east-1";
    }

    /** The engine's URN: the parent's qualified type prefixes the type, except for the root stack. */
    urn(type: string, name: string, parent: string | undefined): string {
        let qualified = type;
        if (parent) {
            const parentType = parent.split("::")[2];
            if (parentType && parentType !== ROOT_STACK_TYPE) qualified = `${parentType}$${type}`;
        }
        return `urn:pulumi:${this.stack}::${this.project}::${qualified}::${name}`;
    }

    private record(resource: CapturedResource): void {
        this.resources.push(resource);
        this.byUrn.set(resource.urn, resource);
        this.onRecord?.(resource);
    }

    /** The engine creates one default provider per package and version for resources that name none. */
    private defaultProvider(pkg: string, version: string): string {
        const key = `${pkg}@${version}`;
        const existing = this.defaultProviders.get(key);
        if (existing) return existing;
        const name = version ? `default_${version.replace(/[.+-]/g, "_")}` : "default";
        const type = `pulumi:providers:${pkg}`;
        const urn = this.urn(type, name, undefined);
        const inputs: Wire = {};
        for (const [k, v] of Object.entries(this.config)) {
            if (k.startsWith(`${pkg}:`)) inputs[k.slice(pkg.length + 1)] = v;
        }
        if (version) inputs.version = version;
        this.record({
            urn, type, name, custom: true, inputs,
            outputs: this.dryRun ? inputs : { ...inputs, id: urn },
            dependencies: [], propertyDependencies: {}, options: {},
        });
        this.defaultProviders.set(key, urn);
        return urn;
    }

    private aliases(req: RegisterRequest, type: string, name: string): string[] {
        const urns = [...req.getAliasurnsList()];
        for (const alias of req.getAliasesList()) {
            if (alias.hasUrn()) {
                urns.push(alias.getUrn());
                continue;
            }
            const spec = alias.getSpec();
            if (!spec) continue;
            const parent = spec.getNoparent() ? undefined : spec.getParenturn() || req.getParent() || undefined;
            const urn = this.urn(spec.getType() || type, spec.getName() || name, parent);
            const [, project, ...rest] = urn.split("::");
            urns.push([`urn:pulumi:${spec.getStack() || this.stack}`, spec.getProject() || project, ...rest].join("::"));
        }
        return [...new Set(urns)];
    }

    private options(req: RegisterRequest, type: string, name: string, propertyDependencies: Record<string, string[]>): ResourceOptions {
        const options: ResourceOptions = {};
        if (req.hasProtect()) options.protect = req.getProtect() === true;
        if (req.getIgnorechangesList().length) options.ignoreChanges = req.getIgnorechangesList();
        if (req.getDeletebeforereplacedefined()) options.deleteBeforeReplace = req.getDeletebeforereplace();
        if (req.getReplaceonchangesList().length) options.replaceOnChanges = req.getReplaceonchangesList();
        if (req.hasRetainondelete()) options.retainOnDelete = req.getRetainondelete() === true;
        // The request carries the union of dependsOn and input dependencies; what no property accounts
        // for can only have come from dependsOn.
        const fromProperties = new Set(Object.values(propertyDependencies).flat());
        const dependsOn = req.getDependenciesList().filter((urn) => !fromProperties.has(urn));
        if (dependsOn.length) options.dependsOn = dependsOn;
        const timeouts = req.getCustomtimeouts();
        if (timeouts && (timeouts.getCreate() || timeouts.getUpdate() || timeouts.getDelete())) {
            options.customTimeouts = {};
            if (timeouts.getCreate()) options.customTimeouts.create = timeouts.getCreate();
            if (timeouts.getUpdate()) options.customTimeouts.update = timeouts.getUpdate();
            if (timeouts.getDelete()) options.customTimeouts.delete = timeouts.getDelete();
        }
        if (req.getAdditionalsecretoutputsList().length) options.additionalSecretOutputs = req.getAdditionalsecretoutputsList();
        const aliases = this.aliases(req, type, name);
        if (aliases.length) options.aliases = aliases;
        return options;
    }

    async registerResource(req: RegisterRequest, callback: Callback): Promise<void> {
        try {
            const type = req.getType();
            const name = req.getName();
            const parent = req.getParent() || undefined;
            const urn = this.urn(type, name, parent);
            if (this.byUrn.has(urn)) throw new Error(`Duplicate resource URN '${urn}'; try giving it a unique name`);
            const custom = req.getCustom();
            const registered = req.getObject()?.toJavaScript() ?? {};
            const propertyDependencies: Record<string, string[]> = {};
            for (const [key, deps] of req.getPropertydependenciesMap().entries()) propertyDependencies[key] = deps.getUrnsList();

            let provider: string | undefined;
            if (custom && !type.startsWith("pulumi:providers:")) {
                const ref = req.getProvider();
                // A provider reference is "<urn>::<id>"; the URN itself contains "::".
                provider = ref ? ref.slice(0, ref.lastIndexOf("::")) : this.defaultProvider(type.split(":")[0], req.getVersion());
            }
            const inputs = custom ? checkInputs(type, urn, name, registered) : registered;
            const planned = custom ? plannedState(type, urn, name, inputs, this.dryRun, this.region) : { id: "", state: {} };
            this.record({
                urn, type, name, custom, parent, provider, inputs,
                outputs: custom && this.dryRun ? withUnknownId(planned.state) : planned.state,
                dependencies: req.getDependenciesList(),
                propertyDependencies,
                options: this.options(req, type, name, propertyDependencies),
            });

            const response = new this.proto.RegisterResourceResponse();
            response.setUrn(urn);
            response.setId(planned.id);
            response.setObject(this.proto.Struct.fromJavaScript(planned.state));
            callback(null, response);
        } catch (err) {
            callback(err);
        }
    }

    registerResourceOutputs(req: { getUrn(): string; getOutputs(): StructLike | undefined }, callback: Callback): void {
        const resource = this.byUrn.get(req.getUrn());
        if (!resource) {
            callback(new Error(`unknown resource ${req.getUrn()}`));
            return;
        }
        const outputs = req.getOutputs()?.toJavaScript() ?? {};
        resource.outputs = outputs;
        if (resource.type === ROOT_STACK_TYPE) this.stackOutputs = outputs;
        callback(null, {});
    }

    /** Reads of existing resources (`Resource.get`) are not creates: answered, never captured. */
    readResource(req: { getType(): string; getName(): string; getParent(): string; getId(): string; getProperties(): StructLike | undefined }, callback: Callback): void {
        const urn = this.urn(req.getType(), req.getName(), req.getParent() || undefined);
        const response = new this.proto.ReadResourceResponse();
        response.setUrn(urn);
        const state = plannedState(req.getType(), urn, req.getName(), req.getProperties()?.toJavaScript() ?? {}, false, this.region).state;
        response.setProperties(this.proto.Struct.fromJavaScript({ ...state, id: req.getId() }));
        callback(null, response);
    }

    invoke(req: { getTok(): string; getArgs(): StructLike | undefined }, callback: Callback): void {
        const token = req.getTok();
        try {
            const args = req.getArgs()?.toJavaScript() ?? {};
            let result: Wire;
            if (token === "pulumi:pulumi:getResource") {
                const resource = this.byUrn.get(String(args.urn));
                if (!resource) throw new Error(`unknown resource ${String(args.urn)}`);
                result = { urn: resource.urn, id: resource.outputs.id ?? UNKNOWN, state: resource.outputs };
            } else {
                result = invoke(token, args, this.region);
            }
            const response = new this.proto.InvokeResponse();
            response.setReturn(this.proto.Struct.fromJavaScript(result));
            callback(null, response);
        } catch (err) {
            this.invokeErrors.push(`invoke of ${token} failed: ${(err as Error).message}`);
            callback(err);
        }
    }

    supportsFeature(req: { getId(): string }, callback: Callback): void {
        // Output values would reach the monitor as special objects; plain values with the unknown marker
        // are what the engine stores and what the analyzer receives.
        const hasSupport = req.getId() !== "outputValues";
        callback(null, { getHassupport: () => hasSupport });
    }

    registerPackage(_req: unknown, callback: Callback): void {
        const response = new this.proto.RegisterPackageResponse();
        response.setRef("preview-package");
        callback(null, response);
    }
}

function withUnknownId(state: Wire): Wire {
    return { ...state, id: UNKNOWN };
}
