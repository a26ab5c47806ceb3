// The written help of the cmdlets: synopsis, description, each parameter's default and
// meaning, and examples. Defaults and meanings follow the Exchange cmdlet reference where
// this server behaves the same, and say so where it does not. help_test.cc checks that every
// text names a real cmdlet and parameter, and that every parameter of a described cmdlet has
// a text.
#include <string>
#include <vector>

#include "adminctl/help.h"

namespace adminctl {
namespace {

constexpr char kIdentityText[] =
    "The mailbox: its name, any of its email addresses, its GUID or its id. Accepts pipeline "
    "input by property name, so that Get-Mailbox ... | <this cmdlet> works.";

constexpr char kFindIdentityText[] =
    "The mailbox: its name, any of its email addresses, its GUID or its id. A wildcard (al*, "
    "*@example.test) lists every mailbox whose name, address or display name matches. "
    "Without it, every mailbox is listed in name order.";

constexpr char kResultSizeText[] =
    "The most mailboxes to return, or Unlimited for all of them. When the default of 1000 "
    "cuts the list, a warning says so.";

std::vector<CmdletHelp> MailboxHelp() {
  std::vector<CmdletHelp> help;
  help.push_back(CmdletHelp{
      .name = "New-Mailbox",
      .synopsis = "Creates a mailbox with its login name and address.",
      .description =
          "Creates a mailbox in the mailbox store: the user and the mailbox together, as "
          "Exchange's New-Mailbox does. The name is also the login name for POP3, IMAP4 and "
          "SMTP submission. POP3 and IMAP4 are enabled for the new mailbox (see "
          "Set-CASMailbox).\n"
          "The password is never printed, and a line that contains -Password or "
          "ConvertTo-SecureString is not kept in the shell history.",
      .parameters =
          {
              {"Name", "",
               "The unique name of the mailbox. It is also its alias and the login name that "
               "mail clients use."},
              {"DisplayName", "The value of -Name",
               "The name shown in address lists and in the mailbox's From headers."},
              {"PrimarySmtpAddress", "<Name>@<default accepted domain>",
               "The mailbox's primary email address. It must not belong to another mailbox "
               "(compared without regard to case). Without it, the address is built from the "
               "name and the default accepted domain, and the cmdlet fails when there is no "
               "default domain."},
              {"Password", "",
               "The password, as text ('S3cret!') or as (ConvertTo-SecureString -String "
               "'S3cret!' -AsPlainText -Force). Leave the value out (or the whole parameter) "
               "to be asked for it twice, without echo, on a terminal. Only a SCRAM-SHA-256 "
               "verifier is stored, never the password."},
          },
      .examples =
          {
              {"New-Mailbox -Name alice -PrimarySmtpAddress alice@example.test -Password "
               "'S3cret!pass'",
               "Creates the mailbox alice with the address alice@example.test."},
              {"New-Mailbox bob",
               "Creates bob at the default accepted domain and asks for the password."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Get-Mailbox",
      .synopsis = "Shows mailboxes: one by identity, or all that match.",
      .description =
          "Shows a table of Name, Alias, ServerName and ProhibitSendQuota. Pipe it to "
          "Format-List to see every property: addresses, quotas, size, item count, last "
          "logon and whether the account is disabled.",
      .parameters =
          {
              {"Identity", "All mailboxes", kFindIdentityText},
              {"ResultSize", "1000", kResultSizeText},
          },
      .examples =
          {
              {"Get-Mailbox", "Lists the first 1000 mailboxes."},
              {"Get-Mailbox alice | Format-List *Quota*", "Shows the quotas of alice."},
              {"Get-Mailbox *@example.test -ResultSize Unlimited",
               "Lists every mailbox with an address in example.test."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Set-Mailbox",
      .synopsis = "Changes a mailbox's name, addresses, password or quotas.",
      .description =
          "Changes only the properties that are given; with none, warns that nothing was "
          "modified. Changes apply to the next login or delivery.",
      .parameters =
          {
              {"Identity", "", kIdentityText},
              {"Name", "",
               "A new unique name. It is also the login name, so mail clients must log in "
               "with the new name."},
              {"DisplayName", "", "The name shown in address lists. '' clears it."},
              {"PrimarySmtpAddress", "",
               "A new primary email address; it must not belong to another mailbox."},
              {"EmailAddresses", "",
               "The secondary (proxy) addresses. A list (a@example.test,b@example.test) "
               "replaces them all; @{Add='a@example.test'; Remove='b@example.test'} adds and "
               "removes. SMTP:a@example.test (upper-case prefix) makes that address the "
               "primary one; smtp:a@example.test or a bare address is a secondary one. Only "
               "SMTP addresses are supported."},
              {"Password", "",
               "A new password, as for New-Mailbox; leave the value out to be asked for it "
               "without echo."},
              {"IssueWarningQuota", "Unlimited",
               "The mailbox size at which the owner should be warned, such as 1.9GB or "
               "Unlimited. It is stored and shown; no warning message is sent yet. Quotas "
               "that are set must keep IssueWarningQuota <= ProhibitSendQuota <= "
               "ProhibitSendReceiveQuota."},
              {"ProhibitSendQuota", "Unlimited",
               "The mailbox size at which the owner may no longer send, such as 2GB or "
               "Unlimited."},
              {"ProhibitSendReceiveQuota", "Unlimited",
               "The mailbox size at which the mailbox takes no more mail: delivery and IMAP "
               "APPEND are refused once a message would pass it. A size such as 2.3GB, or "
               "Unlimited."},
              {"AccountDisabled", "$false",
               "$true refuses every login of the mailbox (POP3, IMAP4 and SMTP submission); "
               "mail is still delivered to it. $false allows logins again."},
          },
      .examples =
          {
              {"Set-Mailbox alice -ProhibitSendReceiveQuota 2GB",
               "Limits alice's mailbox to 2 GB."},
              {"Set-Mailbox alice -EmailAddresses @{Add='al@example.test'}",
               "Adds the secondary address al@example.test."},
              {"Set-Mailbox alice -Password",
               "Asks for a new password for alice, without echo."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Remove-Mailbox",
      .synopsis = "Deletes a mailbox and all of its mail.",
      .description =
          "Deletes the mailbox, its addresses, its password and every message in it. This "
          "cannot be undone. It asks for confirmation unless -Confirm:$false is given; "
          "without a terminal to ask on, it refuses unless -Confirm:$false is given.",
      .parameters =
          {
              {"Identity", "", kIdentityText},
              {"Confirm", "Asks",
               "-Confirm:$false deletes without asking, for scripts. -Confirm (or "
               "-Confirm:$true) asks, which is also what happens without it."},
          },
      .examples =
          {
              {"Remove-Mailbox alice", "Asks, then deletes alice."},
              {"Remove-Mailbox alice -Confirm:$false", "Deletes alice without asking."},
          },
  });
  return help;
}

std::vector<CmdletHelp> CasMailboxHelp() {
  std::vector<CmdletHelp> help;
  help.push_back(CmdletHelp{
      .name = "Get-CASMailbox",
      .synopsis = "Shows mailboxes' POP3, IMAP4 and SMTP access settings.",
      .description =
          "Shows a table of Name, ActiveSyncEnabled, OWAEnabled, PopEnabled, ImapEnabled and "
          "MapiEnabled. ActiveSync, Outlook on the web and MAPI are not served here and "
          "always show False. Format-List shows every setting: Pop*, Imap* and "
          "SmtpClientAuthenticationDisabled.",
      .parameters =
          {
              {"Identity", "All mailboxes", kFindIdentityText},
              {"ResultSize", "1000", kResultSizeText},
              {"ProtocolSettings", "Off",
               "Adds ExternalImapSettings, InternalImapSettings, ExternalPopSettings, "
               "InternalPopSettings, ExternalSmtpSettings and InternalSmtpSettings (see them "
               "with Format-List). This server does not publish them yet: they are empty, "
               "and a warning says so."},
          },
      .examples =
          {
              {"Get-CASMailbox alice | Format-List Pop*", "Shows alice's POP3 settings."},
              {"Get-CASMailbox | Format-Table Name,PopEnabled,ImapEnabled",
               "Shows which mailboxes may use POP3 and IMAP4."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Set-CASMailbox",
      .synopsis = "Turns POP3, IMAP4 or SMTP AUTH on or off for a mailbox.",
      .description =
          "Changes the client access settings that are given. A protocol is usable only when "
          "its service runs and the mailbox allows it. Changes apply to the next login; "
          "connections that are already logged in keep going.",
      .parameters =
          {
              {"Identity", "", kIdentityText},
              {"PopEnabled", "$true",
               "$false refuses POP3 logins for the mailbox; the other Pop* settings are then "
               "ignored."},
              {"ImapEnabled", "$true", "$false refuses IMAP4 logins for the mailbox."},
              {"SmtpClientAuthenticationDisabled", "$null",
               "$true refuses SMTP AUTH (client submission on 587) for the mailbox; $false "
               "allows it; $null follows the server-wide setting, which allows it unless "
               "changed."},
              {"PopDownloadScope", "AllMail",
               "Which messages POP3 offers: AllMail, every message in the POP folders; "
               "FromNow, only mail that arrived after POP3 was last enabled for the mailbox "
               "(so that a new client does not download years of mail)."},
              {"PopRetrievalAction", "Keep",
               "What happens to a message once a POP3 client has downloaded it (RETR): Keep, "
               "nothing; MarkRead, it is marked as read; Archive, it is moved to Archive at "
               "QUIT; Delete, it is moved to Deleted Items at QUIT."},
              {"PopFolders", "Inbox",
               "The folders POP3 offers, as one list (Inbox,Junk). At least one folder; "
               "@{Add=...} is not supported."},
          },
      .examples =
          {
              {"Set-CASMailbox alice -PopEnabled $false", "Stops POP3 for alice."},
              {"Get-Mailbox | Set-CASMailbox -ImapEnabled $false",
               "Stops IMAP4 for every mailbox."},
              {"Set-CASMailbox alice -PopFolders Inbox,Junk -PopRetrievalAction MarkRead",
               "Serves Inbox and Junk over POP3, marking downloaded messages as read."},
          },
  });
  return help;
}

// Get-PopSettings / Get-ImapSettings.
CmdletHelp GetSettingsHelp(bool pop) {
  const std::string protocol = pop ? "POP3" : "IMAP4";
  const std::string noun = pop ? "PopSettings" : "ImapSettings";
  return CmdletHelp{
      .name = "Get-" + noun,
      .synopsis = "Shows the organisation-wide " + protocol + " server settings.",
      .description = "Shows UnencryptedOrTLSBindings, SSLBindings, LoginType and "
                     "X509CertificateName; pipe it to Format-List for every setting. Settings "
                     "that were never changed show their defaults.",
      .parameters =
          {
              {"Server", "Every node",
               "Accepted for scripts written for Exchange, and ignored: the settings apply "
               "to every node."},
          },
      .examples =
          {
              {"Get-" + noun + " | Format-List", "Shows every " + protocol + " setting."},
          },
  };
}

// Set-PopSettings / Set-ImapSettings.
CmdletHelp SetSettingsHelp(bool pop) {
  const std::string protocol = pop ? "POP3" : "IMAP4";
  const std::string noun = pop ? "PopSettings" : "ImapSettings";
  const std::string plain_port = pop ? "110" : "143";
  const std::string tls_port = pop ? "995" : "993";
  const std::string starttls = pop ? "STLS" : "STARTTLS";
  CmdletHelp help{
      .name = "Set-" + noun,
      .synopsis = "Changes the organisation-wide " + protocol + " server settings.",
      .description =
          "Changes only the settings that are given. A change is stored at once and applies "
          "to the next connection on every node: unlike Exchange, no service restart is "
          "needed. Values the server cannot accept are refused before anything is sent, and "
          "an invalid change changes nothing.",
      .parameters =
          {
              {"Server", "Every node", "Accepted for scripts written for Exchange, and ignored."},
              {"LoginType", "SecureLogin",
               "How clients may log in before the connection is encrypted. On port " +
                   tls_port + ", and after " + starttls +
                   " on port " + plain_port + ", every login is allowed. The values:\n"
                   "  SecureLogin (3, the default): no login before TLS. On port " +
                   plain_port + " a client must send " + starttls +
                   " first; every login command is refused until then, so no password "
                   "crosses the network in clear text.\n"
                   "  PlainTextAuthentication (2): before TLS, only SCRAM-SHA-256 is offered, "
                   "which proves the password without sending it; plain-text logins (" +
                   (pop ? "USER/PASS, AUTH PLAIN" : "LOGIN, AUTHENTICATE PLAIN") +
                   ") need TLS.\n"
                   "  PlainTextLogin (1): every login is allowed before TLS, so passwords may "
                   "cross the network in clear text on port " +
                   plain_port +
                   ". Use it only on a trusted network; setting it prints a warning.\n"
                   "The numbers 1, 2 and 3 are accepted too, as in Exchange."},
              {"UnencryptedOrTLSBindings", "[::]:" + plain_port + ", 0.0.0.0:" + plain_port,
               "The address:port listeners for connections that start in clear text and may "
               "upgrade with " +
                   starttls +
                   ". Stored and shown; a casd node opens the listeners of its own "
                   "configuration file when it starts, so running listeners do not move."},
              {"SSLBindings", "[::]:" + tls_port + ", 0.0.0.0:" + tls_port,
               "The address:port listeners for implicit TLS (TLS from the first byte). "
               "Stored and shown; like UnencryptedOrTLSBindings, the listeners come from each "
               "node's configuration file."},
              {"X509CertificateName", "",
               "The host name of the certificate to present. Stored and shown; each node "
               "presents the certificate of its configuration file, or a self-signed one "
               "made at its first start."},
              {"InternalConnectionSettings", "",
               "What internal clients should be told to use, as host:port:SSL or "
               "host:port:TLS entries (mail.example.test:" +
                   tls_port +
                   ":SSL). Stored and shown; not yet published to users."},
              {"ExternalConnectionSettings", "",
               "The same as InternalConnectionSettings, for clients outside the network."},
              {"Banner", pop ? "The POP3 service is ready." : "The IMAP4 service is ready.",
               std::string("The greeting sent after ") + (pop ? "+OK" : "* OK") +
                   " when a client connects. $null restores the default."},
              {"MaxConnections", "2147483647",
               "The most " + protocol +
                   " connections, logged in or not, that one node accepts (1 to "
                   "2147483647)."},
              {"MaxConnectionFromSingleIP", "2147483647",
               "The most " + protocol +
                   " connections that one node accepts from one client address (1 to "
                   "2147483647)."},
              {"MaxConnectionsPerUser", "16",
               "The most " + protocol +
                   " connections that one mailbox may have logged in at once; a login past "
                   "it is refused."},
              {"MaxCommandSize", pop ? "512" : "10240",
               "The longest command line, in bytes (" +
                   std::string(pop ? "40 to 1024" : "1024 to 16384") + ")."},
              {"PreAuthenticatedConnectionTimeout", "00:01:00",
               "How long a connection may stay idle before it logs in, as hh:mm:ss "
               "(00:00:30 to 01:00:00)."},
              {"AuthenticatedConnectionTimeout", "00:30:00",
               "How long a logged-in connection may stay idle, as hh:mm:ss or d.hh:mm:ss (" +
                   std::string(pop ? "00:10:00, the least RFC 1939 allows," : "00:00:30") +
                   " to 1.00:00:00)."},
              {"ProtocolLogEnabled", "$false",
               "$true logs every " + protocol +
                   " command and response of every session to each node's protocol log "
                   "directory. Passwords and SASL data are never logged."},
              {"LogFileLocation", "",
               "A directory for the protocol logs. Stored and shown; each node writes to the "
               "protocol_log_dir of its configuration file (by default <state_dir>/logs)."},
              {"WhatIf", "",
               "Shows the change (\"What if: ...\") without making it."},
          },
      .examples =
          {
              {"Set-" + noun + " -LoginType SecureLogin",
               "Refuses every login before TLS (the default)."},
              {"Set-" + noun + " -MaxConnectionsPerUser 20 -WhatIf",
               "Shows the change without making it."},
          },
  };
  if (pop) {
    help.parameters.push_back(
        {"MessageRetrievalSortOrder", "Ascending",
         "The order in which the POP3 maildrop numbers messages (LIST, UIDL, RETR): "
         "Ascending, oldest first; Descending, newest first. It applies from the next POP3 "
         "session."});
  } else {
    help.parameters.push_back(
        {"MaxMessageSize", "36 MB",
         "The largest message that IMAP APPEND accepts, advertised as APPENDLIMIT; a size "
         "such as 36MB."});
  }
  return help;
}

std::vector<CmdletHelp> FormatHelp() {
  std::vector<CmdletHelp> help;
  help.push_back(CmdletHelp{
      .name = "Format-List",
      .synopsis = "Shows each property of the piped objects on its own line.",
      .description = "Must be the last command of a pipeline.",
      .parameters =
          {
              {"Property", "Every property",
               "Property names or wildcards (Name,*Quota*), shown in the order given."},
          },
      .examples =
          {
              {"Get-Mailbox alice | Format-List", "Shows every property of alice."},
              {"Get-CASMailbox alice | fl Pop*,Imap*", "Shows alice's POP3 and IMAP4 settings."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Format-Table",
      .synopsis = "Shows the piped objects as a table, one column per property.",
      .description = "Must be the last command of a pipeline.",
      .parameters =
          {
              {"Property", "The cmdlet's default columns",
               "Property names or wildcards (Name,*Enabled), shown in the order given."},
              {"AutoSize", "", "Accepted for familiarity; columns are always sized to fit."},
              {"Wrap", "", "Accepted for familiarity; values are never cut."},
          },
      .examples =
          {
              {"Get-Mailbox | Format-Table Name,PrimarySmtpAddress,ProhibitSendQuota",
               "Shows the chosen columns for every mailbox."},
          },
  });
  return help;
}

std::vector<CmdletHelp> HelpCmdletsHelp() {
  std::vector<CmdletHelp> help;
  help.push_back(CmdletHelp{
      .name = "Get-Command",
      .synopsis = "Lists the cmdlets, each with a one-line synopsis.",
      .description = "Lists cmdlets by name. An unknown name without wildcards is an error; a "
                     "wildcard that matches nothing lists nothing.",
      .parameters =
          {
              {"Name", "Every cmdlet",
               "Cmdlet names, aliases or wildcards (*Mailbox*, Set-*)."},
              {"Verb", "Every verb", "Only cmdlets with these verbs (Get, Set); wildcards "
                                     "allowed."},
              {"Noun", "Every noun",
               "Only cmdlets with these nouns (Mailbox, *Settings); wildcards allowed."},
          },
      .examples =
          {
              {"Get-Command *Settings", "Lists the server settings cmdlets."},
              {"Get-Command -Verb Set", "Lists the cmdlets that change something."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Get-Help",
      .synopsis = "Shows help for a cmdlet: syntax, parameters, examples.",
      .description =
          "Shows the syntax, synopsis and description of a cmdlet. A wildcard that matches "
          "several cmdlets lists them instead. Without a name, explains how to get help.",
      .parameters =
          {
              {"Name", "", "A cmdlet name or alias, or a wildcard (*Mailbox)."},
              {"Detailed", "",
               "Adds every parameter (type, meaning, Required?, Position?, default value) "
               "and examples."},
              {"Full", "", "The same as -Detailed."},
              {"Parameter", "",
               "Shows only the parameters whose names match; wildcards allowed (Pop*)."},
          },
      .examples =
          {
              {"Get-Help Set-PopSettings -Parameter LoginType",
               "Explains what each LoginType does."},
              {"Get-Help New-Mailbox -Detailed",
               "Shows every parameter of New-Mailbox, with examples."},
          },
  });
  return help;
}

}  // namespace

const std::vector<CmdletHelp>& AllCmdletHelp() {
  static const std::vector<CmdletHelp>* all = [] {
    auto* help = new std::vector<CmdletHelp>();
    for (auto family : {MailboxHelp(), CasMailboxHelp(), FormatHelp(), HelpCmdletsHelp()}) {
      for (CmdletHelp& h : family) help->push_back(std::move(h));
    }
    for (bool pop : {true, false}) {
      help->push_back(GetSettingsHelp(pop));
      help->push_back(SetSettingsHelp(pop));
    }
    return help;
  }();
  return *all;
}

}  // namespace adminctl
