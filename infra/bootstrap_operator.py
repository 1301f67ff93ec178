"""`python -m infra.bootstrap_operator --stage prod --email ... --first-name ... --last-name ...`

Creates an operator account on a deployed stage (the first card-maker operator, who then creates the others in the
back office), with the caller's AWS credentials. No password goes through the command line or the shell history: the
person receives the portal's usual email with a link to choose their password (valid 24 hours).

Needs, for the caller: dynamodb:GetItem/PutItem on the stage's accounts, tokens and prefectures tables, and
ses:SendRawEmail from the stage's sender.
"""
import argparse
import sys

from chalicelib.domain import roles

from .stage_env import use_stage


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Create an operator account on a deployed stage.")
    parser.add_argument("--stage", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--first-name", required=True)
    parser.add_argument("--last-name", required=True)
    parser.add_argument("--role", choices=[roles.MANUFACTURER, roles.PREFECTURE], default=roles.MANUFACTURER)
    parser.add_argument("--department", help="préfecture agents: the département code (its préfecture must be "
                                             "loaded from the reference file first)")
    parser.add_argument("--region", help="default: AWS_REGION, else the stage's region")
    args = parser.parse_args(argv)
    if args.role == roles.PREFECTURE and not args.department:
        parser.error("--department is required for a préfecture agent")

    environment = use_stage(args.stage, args.region)
    from chalicelib.errors import PortalError
    from chalicelib.services.accounts import create_operator

    try:
        created = create_operator(args.email, args.first_name.strip(), args.last_name.strip(), args.role,
                                  args.department, password=None)
    except PortalError as error:
        print(f"Refused: {error.body()['message']}", file=sys.stderr)
        return 1
    print(f"{created['email']} ({created['role']}) created on {args.stage} ({environment['AWS_REGION']}): "
          f"a link to choose the password was sent from {environment['MAIL_SENDER']}; it is valid 24 hours "
          f"({environment['SITE_URL']}/mot-de-passe-oublie.html sends a new one).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
