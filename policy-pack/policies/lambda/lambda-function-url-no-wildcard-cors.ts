import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { list, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "lambda-function-url-no-wildcard-cors";

export const lambdaFunctionUrlNoWildcardCors: ResourceValidationPolicy & Implements = {
    name,
    description: "A Lambda function URL's CORS configuration names the origins allowed to call it from a browser, never '*' (any web page).",
    enforcementLevel: "mandatory",
    controls: ["Prowler awslambda_function_url_cors_policy"],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.functionUrl) return;
        const unchecked = new Unchecked();
        const origins = list(args.props, "cors.allowOrigins");
        if (origins === UNKNOWN) unchecked.add(`cors.allowOrigins of ${label(args)}`);
        else if ((origins ?? []).some((o) => typeof o === "string" && /^\s*\*\s*$/.test(o))) {
            reportViolation(
                `${label(args)} lets any web page call the function from a browser (cors.allowOrigins ["*"]), with the visitor's cookies and network. ` +
                    "List the origins of your own front end in cors.allowOrigins (https://app.example.com), or drop cors if no browser calls it.",
            );
        }
        unchecked.finish();
    },
};
