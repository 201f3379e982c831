/**
 * "*", or an ARN whose region, account and resource parts are all wildcards: "arn:aws:s3:::*" (every bucket
 * and object), "arn:aws:sagemaker:*:*:*", "arn:*:iam::*:*".
 */
export function meansEveryResource(resource: string): boolean {
    if (/^\*+$/.test(resource)) return true;
    const parts = resource.split(":");
    if (parts.length < 6 || parts[0] !== "arn") return false;
    const [region, account] = [parts[3], parts[4]];
    const rest = parts.slice(5).join(":");
    const wild = (part: string) => part === "" || /^\*+$/.test(part);
    return wild(region) && wild(account) && /^[*/:]+$/.test(rest);
}
