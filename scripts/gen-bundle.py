#!/usr/bin/env python3
"""Writes a deterministic synthetic export bundle of about N items.

Shape: T tenants, each with E enrollments of 10 recipients over a 4-step sequence,
so items = T * E * 40 (minus a few recipients past some steps). A small share of rows
hits every status and reason so the planner's slow paths are exercised too.
"""
import argparse
import os
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=10_000_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--tenants", type=int, default=0, help="tenants (default: up to 1000, from --items)")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    per_enrollment = 40
    enrollments_total = max(1, args.items // per_enrollment)
    tenants = args.tenants or max(1, min(1000, enrollments_total // 10))
    per_tenant = max(1, enrollments_total // tenants)
    os.makedirs(args.out, exist_ok=True)
    p = lambda name: open(os.path.join(args.out, name), "w", newline="")
    with p("identities.csv") as ids, p("templates.csv") as tpl, p("sequences.csv") as seq, \
            p("steps.csv") as st, p("enrollments.csv") as enr, p("batches.csv") as bat, \
            p("recipients.csv") as rec, p("suppressions.csv") as sup:
        ids.write("customer_id,identity_id,status,from_email,display_name\n")
        tpl.write("customer_id,template_id,status,name,subject\n")
        seq.write("customer_id,sequence_id,status,identity_id,name\n")
        st.write("customer_id,sequence_id,step_order,template_id\n")
        enr.write("customer_id,enrollment_id,sequence_id,status,identity_id,batch_id\n")
        bat.write("customer_id,batch_id,status\n")
        rec.write("customer_id,enrollment_id,recipient_id,email,opted_out,last_step_sent\n")
        sup.write("customer_id,type,value,reason,created_at,expires_at\n")
        for t in range(tenants):
            c = f"tenant-{t:05d}"
            ids.write(f"{c},id-main,verified,news@{c}.example,\"News, {c}\"\n")
            ids.write(f"{c},id-unv,unverified,x@{c}.example,X\n")
            for k in range(1, 5):
                tpl.write(f"{c},tpl-{k},active,Template {k},\"Subject {k}\"\n")
            tpl.write(f"{c},tpl-draft,draft,Draft,Draft\n")
            seq.write(f"{c},seq-a,active,id-main,Main\n")
            seq.write(f"{c},seq-b,active,id-unv,Unverified sender\n")
            for k in range(1, 5):
                st.write(f"{c},seq-a,{k},tpl-{k}\n")
                st.write(f"{c},seq-b,{k},tpl-{k if k < 4 else 'draft'}\n")
            bat.write(f"{c},batch-1,paused\n")
            for d in range(3):
                sup.write(f"{c},email,user{rnd.randrange(per_tenant * 10)}@example.com,bounce,2026-01-01T00:00:00Z,\n")
            sup.write(f"{c},domain,blocked.example,policy,2026-01-01T00:00:00Z,\n")
            for e in range(per_tenant):
                eid = f"enr-{e:06d}"
                roll = rnd.random()
                status = "paused" if roll < 0.01 else ("completed" if roll < 0.02 else "active")
                sid = "seq-b" if rnd.random() < 0.01 else "seq-a"
                batch = "batch-1" if rnd.random() < 0.01 else ""
                enr.write(f"{c},{eid},{sid},{status},,{batch}\n")
                for r in range(10):
                    rid = f"rcp-{r:02d}"
                    x = rnd.random()
                    if x < 0.01:
                        email = "not-an-email"
                    elif x < 0.02:
                        email = f"someone@mail.blocked.example"
                    else:
                        email = f"User{e * 10 + r}@Example.com"
                    opted = "true" if rnd.random() < 0.02 else "false"
                    rec.write(f"{c},{eid},{rid},{email},{opted},0\n")


if __name__ == "__main__":
    main()
