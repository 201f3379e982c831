import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { bool, list, Unchecked, UNKNOWN } from "../../lib/unknown";

export const cloudwatchAlarmActionsEnabled: ResourceValidationPolicy & Implements = {
    name: "cloudwatch-alarm-actions-enabled",
    description: "Every CloudWatch metric or composite alarm has its actions enabled and at least one alarm action, so going into ALARM notifies someone.",
    enforcementLevel: "mandatory",
    controls: ["SecurityHub CloudWatch.15", "Prowler cloudwatch_alarm_actions_enabled / _alarm_state_configured", "Checkov CKV_AWS_319"],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.metricAlarm && args.type !== T.compositeAlarm) return;
        const unchecked = new Unchecked();
        const enabled = bool(args.props, "actionsEnabled");
        const actions = list(args.props, "alarmActions");
        if (enabled === UNKNOWN) unchecked.add(`actionsEnabled of ${label(args)}`);
        else if (enabled === false) reportViolation(`${label(args)} has its actions disabled (actionsEnabled: false): it changes state silently. Remove actionsEnabled: false.`);
        if (actions === UNKNOWN) unchecked.add(`alarmActions of ${label(args)}`);
        else if (!actions || actions.length === 0) {
            reportViolation(`${label(args)} has no alarmActions: going into ALARM notifies nobody. Add an SNS topic (or another action) to alarmActions.`);
        }
        unchecked.finish();
    },
};
