/**
 * How every message names a resource: its short type and its Pulumi name, e.g. "Function 'inference'".
 * Policies take it from a stack resource or from a resource policy's args (both have type and name), so
 * a user searching their program for the name finds the resource whichever policy reported it.
 */
export function label(resource: { type: string; name: string }): string {
    const shortType = resource.type.split(":").pop() ?? resource.type;
    return `${shortType} '${resource.name}'`;
}
