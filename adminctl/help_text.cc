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
    "input by property name, so the mailboxes that Get-Mailbox lists can be piped in.";

constexpr char kFindIdentityText[] =
    "The mailbox: its name, any of its email addresses, its GUID or its id. A wildcard (al*, "
    "*@example.test) lists every mailbox whose name, address or display name matches. "
    "Without it, every mailbox is listed in name order.";

constexpr char kResultSizeText[] =
    "The most mailboxes to return, or Unlimited for all of them. When the default of 1000 "
    "cuts the list, a warning says so.";

constexpr char kFilterText[] =
    "Only the objects whose properties match this OPATH filter, for example \"PopEnabled -eq "
    "$false -and Name -like 'a*'\". A comparison is Property -eq, -ne, -like, -notlike, -gt, "
    "-lt, -ge or -le followed by $true, $false, $null, a number (10MB works for sizes) or a "
    "quoted text (-like takes * and ?); combine them with -and, -or, -not and parentheses. "
    "The properties are those Format-List shows. Write $true inside \"...\" as is, or put "
    "the filter in '...'. ResultSize counts the matches.";

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
      .description = "Shows a table of Name, Alias, ServerName and ProhibitSendQuota. Pipe it to "
                     "Format-List to see every property: addresses, quotas, size, item count, last "
                     "logon and whether the account is disabled.",
      .parameters =
          {
              {"Identity", "All mailboxes", kFindIdentityText},
              {"ResultSize", "1000", kResultSizeText},
              {"Filter", "No filter", kFilterText},
          },
      .examples =
          {
              {"Get-Mailbox", "Lists the first 1000 mailboxes."},
              {"Get-Mailbox -Filter \"IsMailboxEnabled -eq $false\"",
               "Lists the mailboxes that Disable-Mailbox disabled."},
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
              {"Set-Mailbox alice -Password", "Asks for a new password for alice, without echo."},
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
  help.push_back(CmdletHelp{
      .name = "Disable-Mailbox",
      .synopsis = "Stops a mailbox's logins and mail, keeping its data.",
      .description =
          "Nobody can log in to a disabled mailbox over POP3, IMAP4 or SMTP submission: the "
          "login gets the same \"authentication failed\" answer as a wrong password, so that "
          "it tells nothing about the account. Mail to any of its addresses is refused at RCPT "
          "TO with 550 5.1.1, as for an unknown user, and queued mail for it bounces. Its "
          "folders, messages and settings are kept; Get-Mailbox shows IsMailboxEnabled False. "
          "Enable-Mailbox undoes it. Connections that are already logged in keep going until "
          "they end.\n"
          "Unlike Exchange, the mailbox is not disconnected from a user account: there is no "
          "separate user object here. It asks for confirmation unless -Confirm:$false is given.",
      .parameters =
          {
              {"Identity", "", kIdentityText},
              {"Confirm", "Asks",
               "-Confirm:$false disables without asking, for scripts. Without a terminal to "
               "ask on, it refuses unless -Confirm:$false is given."},
              {"WhatIf", "Off", "Says what would be disabled and changes nothing."},
          },
      .examples =
          {
              {"Disable-Mailbox alice -Confirm:$false",
               "Refuses alice's logins and mail from now on."},
              {"Get-Mailbox old* | Disable-Mailbox -Confirm:$false",
               "Disables every mailbox whose name starts with old."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Enable-Mailbox",
      .synopsis = "Lets a disabled mailbox log in and receive mail again.",
      .description =
          "Undoes Disable-Mailbox: logins and incoming mail work again from the next "
          "connection, with the mail and settings the mailbox had. Shows the mailbox. "
          "Enabling a mailbox that is enabled changes nothing.",
      .parameters =
          {
              {"Identity", "", kIdentityText},
              {"WhatIf", "Off", "Says what would be enabled and changes nothing."},
          },
      .examples =
          {
              {"Enable-Mailbox alice", "Lets alice log in and receive mail again."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Get-MailboxStatistics",
      .synopsis = "Shows a mailbox's size, item count and last logon.",
      .description =
          "Shows a table of DisplayName, ItemCount, StorageLimitStatus and LastLogonTime. "
          "Format-List adds TotalItemSize (as Exchange prints it: 1.2 MB (1,234,567 bytes)), "
          "DeletedItemCount (messages marked \\Deleted that are not expunged yet), "
          "FolderCount, MailboxGuid and IsMailboxEnabled. StorageLimitStatus compares the "
          "size with the quotas of Set-Mailbox: BelowLimit, IssueWarning, ProhibitSend, "
          "ProhibitSendReceive, or NoChecking when every quota is Unlimited.",
      .parameters =
          {
              {"Identity", "", kIdentityText},
          },
      .examples =
          {
              {"Get-MailboxStatistics alice | Format-List", "Shows everything about alice's size."},
              {"Get-Mailbox | Get-MailboxStatistics", "Shows the statistics of every mailbox."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Get-MailboxFolderStatistics",
      .synopsis = "Shows the item count and size of each folder.",
      .description =
          "Shows a table of Name, FolderPath, FolderType, ItemsInFolder and FolderSize, one "
          "row per folder, the Inbox first. FolderType comes from the folder's IMAP special "
          "use (SentItems, Drafts, DeletedItems, JunkEmail, Archive), else User Created. "
          "Format-List adds SpecialUse, UnreadItemsInFolder, DeletedItemsInFolder, "
          "ItemsInFolderAndSubfolders, FolderAndSubfolderSize and CreationTime.",
      .parameters =
          {
              {"Identity", "", kIdentityText},
              {"FolderScope", "All",
               "Only the folders of this type and their subfolders: All, Inbox, SentItems, "
               "Drafts, DeletedItems, JunkEmail or Archive."},
          },
      .examples =
          {
              {"Get-MailboxFolderStatistics alice", "Lists alice's folders with their sizes."},
              {"Get-MailboxFolderStatistics alice -FolderScope Inbox",
               "The Inbox and its subfolders only."},
          },
  });
  return help;
}

std::vector<CmdletHelp> CasMailboxHelp() {
  std::vector<CmdletHelp> help;
  help.push_back(CmdletHelp{
      .name = "Get-ClientAccessDnsRecords",
      .synopsis = "Shows the DNS records mail clients need to find us.",
      .description =
          "Prints, for each accepted domain, the records to publish as zone-file lines "
          "(Name, TTL, Class, Type, Data): MX; the RFC 6186 SRV records _imaps._tcp, "
          "_imap._tcp, _pop3s._tcp, _pop3._tcp, _submissions._tcp and _submission._tcp with "
          "the ports the running services listen on now; and autoconfig.<domain> and "
          "autodiscover.<domain>, which Thunderbird and Outlook ask. A service that is "
          "stopped, has no listener or is not allowed by LoginType gets the target \".\" (RFC "
          "6186: not offered). Priorities make clients prefer IMAP4 to POP3 and implicit TLS "
          "to STARTTLS (RFC 8314). The server name is casd's public host name. Format-List "
          "adds an explanation of each record; ConvertTo-Json gives them to scripts.",
      .parameters =
          {
              {"DomainName", "Every accepted domain",
               "Only this accepted domain (wildcards allowed)."},
          },
      .examples =
          {
              {"Get-ClientAccessDnsRecords example.test",
               "The records to add to the example.test zone."},
              {"Get-MailDnsRecords | ConvertTo-Json", "The same for every domain, as JSON."},
          },
  });
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
               "Shows instead what the mailbox's user types into a mail client: one row per "
               "server, port and encryption (SSL/TLS or STARTTLS) with the user name, for the "
               "protocols the mailbox may use and the services that run now, computed as the "
               "autoconfig documents are. Each row also carries Exchange's "
               "ExternalImapSettings, InternalImapSettings, ExternalPopSettings, "
               "InternalPopSettings, ExternalSmtpSettings and InternalSmtpSettings "
               "(server:port:SSL or :TLS for STARTTLS)."},
              {"Filter", "No filter", kFilterText},
          },
      .examples =
          {
              {"Get-CASMailbox alice | Format-List Pop*", "Shows alice's POP3 settings."},
              {"Get-CASMailbox alice -ProtocolSettings",
               "Shows the servers, ports and encryption to set up in alice's mail client."},
              {"Get-CASMailbox -Filter \"PopEnabled -eq $false\"",
               "Lists the mailboxes that may not use POP3."},
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
              {"WhatIf", "", "Shows what would be changed without changing anything."},
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
      .description =
          "Shows UnencryptedOrTLSBindings, SSLBindings, LoginType and "
          "X509CertificateName; pipe it to Format-List for every setting. Settings "
          "that were never changed show their defaults. SettingsVersion counts the changes; "
          "NodeSettingsVersions shows which version each node that runs " + protocol +
          " has applied ({cas1: 7}); a node still applying the latest change is marked "
          "(applying), one that stopped heartbeating Unreachable.",
      .parameters =
          {
              {"Server", "Every node",
               "The settings are the same on every node; with a node's name, "
               "NodeSettingsVersions shows only that node."},
          },
      .examples =
          {
              {"Get-" + noun + " | Format-List", "Shows every " + protocol + " setting."},
              {"Get-" + noun + " -Server cas1 | Format-List NodeSettingsVersions",
               "Shows which settings version the node cas1 runs."},
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
               "How clients may log in before the connection is encrypted. On port " + tls_port +
                   ", and after " + starttls + " on port " + plain_port +
                   ", every login is allowed. The values:\n"
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
                   tls_port + ":SSL). Stored and shown; not yet published to users."},
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
               "How long a connection may take from connect to a successful login, "
               "however much it sends meanwhile, as hh:mm:ss (00:00:30 to 01:00:00)."},
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
              {"WhatIf", "", "Shows the change (\"What if: ...\") without making it."},
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
      .name = "ConvertTo-Json",
      .synopsis = "Writes the piped objects as a JSON array, for scripts.",
      .description = "Every property is a JSON string, in the order the cmdlet shows it. Must be "
                     "the last command of a pipeline.",
      .parameters =
          {
              {"Property", "Every property",
               "Property names or wildcards (Name,*Enabled) to include."},
              {"Compress", "", "Writes everything on one line."},
          },
      .examples =
          {
              {"Get-CASMailbox | ConvertTo-Json Name,PopEnabled,ImapEnabled",
               "The protocol switches of every mailbox, for jq or a script."},
          },
  });
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
              {"Name", "Every cmdlet", "Cmdlet names, aliases or wildcards (*Mailbox*, Set-*)."},
              {"Verb", "Every verb",
               "Only cmdlets with these verbs (Get, Set); wildcards "
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

constexpr char kServiceNameText[] =
    "The service: POP3, IMAP4 or SMTP, or Exchange's name for it (MSExchangePOP3, "
    "MSExchangeIMAP4, MSExchangeTransport or MSExchangeFrontEndTransport), in any case. One "
    "service; wildcards are not allowed. Accepts pipeline input by property name, so the rows "
    "that Get-Service shows can be piped in, each acting on its own node (MachineName).";

constexpr char kServiceServerText[] =
    "The node to act on, as Get-Service shows it in MachineName. Without it: every node, and "
    "nodes that register later; or, for a row piped in from Get-Service, that row's node. "
    "-ComputerName is accepted too.";

constexpr char kServicePassThruText[] =
    "Shows the service's rows after the change (otherwise nothing is printed on success). "
    "Status is what each node last reported, so it follows at the node's next heartbeat; "
    "DesiredStatus (see it with Format-List) shows the change at once.";

constexpr char kServiceWhatIfText[] =
    "Shows what would be done (\"What if: ...\") without doing it.";

// Start-Service, Stop-Service and Restart-Service.
CmdletHelp ServiceActionHelp(const std::string& verb, const std::string& synopsis,
                             const std::string& description, const std::string& example_remarks) {
  const std::string cmdlet = verb + "-Service";
  return CmdletHelp{
      .name = cmdlet,
      .synopsis = synopsis,
      .description = description,
      .parameters =
          {
              {"Name", "", kServiceNameText},
              {"Server", "Every node", kServiceServerText},
              {"PassThru", "", kServicePassThruText},
              {"WhatIf", "", kServiceWhatIfText},
          },
      .examples =
          {
              {cmdlet + " POP3", example_remarks},
              {cmdlet + " MSExchangeIMAP4 -Server cas01",
               "The same for IMAP4, on the node cas01 only."},
              {"Get-Service POP3 -Server cas0* | " + cmdlet,
               "Acts on POP3 on each node whose name starts with cas0."},
          },
  };
}

std::vector<CmdletHelp> ServiceHelp() {
  std::vector<CmdletHelp> help;
  help.push_back(CmdletHelp{
      .name = "Get-Service",
      .synopsis = "Shows the POP3, IMAP4 and SMTP services on every node.",
      .description =
          "Shows one row per node and service: Status, Name, DisplayName, MachineName (the "
          "node) and StartType. Status is Running or Stopped as the node last reported it, or "
          "Unreachable when the node has missed its heartbeats. Format-List adds "
          "DesiredStatus (what Start-Service or Stop-Service asked for), SettingsVersion (the "
          "server settings version the node has applied) and LastHeartbeat.\n"
          "Pipe the rows into Start-Service, Stop-Service, Restart-Service or Set-Service to "
          "act on exactly those services, each on its own node.",
      .parameters =
          {
              {"Name", "Every service",
               "The services: POP3, IMAP4 or SMTP, or Exchange's names for them "
               "(MSExchangePOP3, MSExchangeIMAP4, MSExchangeTransport, "
               "MSExchangeFrontEndTransport), in any case. Several may be given (POP3,IMAP4), "
               "and wildcards (MSExchange*, *) list every service that matches. A name without "
               "wildcards that no node runs is an error."},
              {"Server", "Every node",
               "The node (a casd or transportd host, by the name it registered with) whose "
               "services are shown; wildcards allowed (cas*). -ComputerName is accepted too."},
          },
      .examples =
          {
              {"Get-Service", "Lists every service on every node."},
              {"Get-Service POP3 -Server cas01 | Format-List",
               "Shows POP3 on cas01 with its desired state and last heartbeat."},
              {"Get-Service MSExchange*", "Lists the services by their Exchange names too."},
          },
  });
  help.push_back(ServiceActionHelp(
      "Start", "Starts a service on every node, or on one node.",
      "Stores the desired state in the mailbox store; each node opens the service's "
      "listeners at its next heartbeat (about a second later). Prints nothing on success. A "
      "Disabled service cannot be started: change its startup type first with Set-Service "
      "-StartupType.",
      "Starts POP3 on every node, and on nodes that register later."));
  help.push_back(ServiceActionHelp(
      "Stop", "Stops a service on every node, or on one node.",
      "Stores the desired state in the mailbox store; at its next heartbeat each node closes "
      "the service's listeners and ends its live sessions politely (POP3 clients get -ERR "
      "[SYS/TEMP], IMAP4 clients * BYE). Get-Service then shows Stopped. Prints nothing on "
      "success.",
      "Stops POP3 on every node, and on nodes that register later."));
  help.push_back(ServiceActionHelp(
      "Restart", "Restarts a service on every node, or on one node.",
      "At its next heartbeat each node closes and re-opens the service's listeners and ends "
      "the service's live sessions. Settings changes do not need it: they apply to the next "
      "connection. A Disabled service cannot be restarted. Prints nothing on success.",
      "Restarts POP3 on every node."));
  help.push_back(CmdletHelp{
      .name = "Set-Service",
      .synopsis = "Sets a service's startup type: Automatic, Manual, Disabled.",
      .description =
          "Changes the startup type on every node, or on one node with -Server. As on "
          "Windows, it neither starts nor stops the service; when a service made Disabled is "
          "still running, a warning says so. Prints nothing on success.",
      .parameters =
          {
              {"Name", "", kServiceNameText},
              {"StartupType", "",
               "When the service runs:\n"
               "  Automatic: it starts whenever its process starts (casd for POP3 and IMAP4, "
               "transportd for SMTP), and Start-Service and Stop-Service work at any time. The "
               "default.\n"
               "  Manual: it does not start when its process starts; it runs only after "
               "Start-Service.\n"
               "  Disabled: it cannot be started; Start-Service and Restart-Service fail until "
               "the startup type is changed. A service that is running keeps running until "
               "Stop-Service.\n"
               "StartMode and StartType are accepted as names of this parameter."},
              {"Server", "Every node", kServiceServerText},
              {"PassThru", "", kServicePassThruText},
              {"WhatIf", "", kServiceWhatIfText},
          },
      .examples =
          {
              {"Set-Service POP3 -StartupType Disabled; Stop-Service POP3",
               "Stops POP3 everywhere and keeps it from being started."},
              {"Set-Service IMAP4 -StartupType Manual -Server cas02",
               "On cas02, IMAP4 no longer starts with casd."},
          },
  });
  return help;
}

// ---------------------------------------------------------------------------------------------
// Transport: receive and send connectors, Get-/Set-TransportService, Get-/Set-TransportConfig

constexpr char kConnectorIdentityText[] =
    "The connector's name (Client Frontend), in any case. Exchange's form with a server part "
    "(MBX01\\Client Frontend) is accepted and the server part dropped: connectors belong to "
    "the organisation, and every transportd runs all of them. Accepts pipeline input by "
    "property name, so the connectors that Get-ReceiveConnector lists can be piped in.";

constexpr char kTransportWhatIfText[] = "Shows the change (\"What if: ...\") without making it.";

// The receive connector properties, for New- (`defaults`: what a new connector gets) and
// Set-ReceiveConnector (unchanged when not given).
std::vector<ParameterHelp> ConnectorParameterHelp(bool defaults) {
  auto d = [defaults](const char* value) { return std::string(defaults ? value : ""); };
  return {
      {"Name", "",
       defaults ? "The new connector's name, unique in any case; at most 64 characters."
                : "A new name for the connector, unique in any case."},
      {"Bindings", "",
       "The local addresses and ports to listen on, as address:port: 0.0.0.0:2525 for every "
       "IPv4 address, '[::]:2525' for every IPv6 address (quote it). The whole list is "
       "replaced."},
      {"Enabled", d("$true"), "$false closes the connector's listeners; $true opens them."},
      {"Banner", d("ESMTP service ready"),
       "The text of the 220 greeting after the host name. $null goes back to the default."},
      {"Fqdn", "",
       "The name the connector gives for itself. Stored and shown; the greeting and EHLO "
       "reply use the node's host name."},
      {"TlsCertificateName", "", "The certificate to use for TLS on the connector."},
      {"MaxMessageSize", d("36 MB"),
       "The largest message accepted (advertised with SIZE), from 64KB to 2GB, such as 50MB."},
      {"MaxRecipientsPerMessage", d("200"),
       "The most RCPT TO commands accepted per message, from 1 to 512000."},
      {"MaxInboundConnection", d("5000"),
       "The most connections to the connector at once. Unlimited is not supported."},
      {"MaxInboundConnectionPerSource", d("20"),
       "The most connections at once from one IP address, from 1 to 10000."},
      {"ConnectionTimeout", d("00:10:00"),
       "How long a connection may stay open, as hh:mm:ss or d.hh:mm:ss (up to 1.00:00:00)."},
      {"AuthMechanism", defaults ? "Tls (-Usage Client: Tls, BasicAuth, BasicAuthRequireTLS)" : "",
       "What the connector offers, as a list (Tls,BasicAuth,BasicAuthRequireTLS) or one "
       "quoted word ('Tls, BasicAuth'):\n"
       "  Tls: STARTTLS.\n"
       "  BasicAuth: AUTH PLAIN and LOGIN.\n"
       "  BasicAuthRequireTLS: AUTH only after STARTTLS; needs BasicAuth and Tls.\n"
       "  Integrated, ExternalAuthoritative: stored for Exchange's scripts; "
       "ExternalAuthoritative goes only with Tls.\n"
       "  None: nothing; it cannot be combined with other values.\n"
       "BasicAuth without BasicAuthRequireTLS, on a connector without ImplicitTls or "
       "RequireTLS, lets passwords cross the network in clear text; a warning says so."},
      {"RequireTLS", d("$false"), "$true refuses MAIL FROM until STARTTLS."},
      {"AuthRequired", defaults ? "$false (-Usage Client: $true)" : "",
       "$true refuses MAIL FROM until the client has authenticated (a submission port)."},
      {"RelayAllowed", defaults ? "$false (-Usage Client: $true)" : "",
       "$true lets authenticated clients send to any domain; otherwise only the "
       "organisation's accepted domains take mail through the connector."},
      {"ImplicitTls", d("$false"),
       "$true starts TLS as soon as a client connects (port 465) instead of STARTTLS."},
      {"ProtocolLoggingLevel", d("None"),
       "Verbose writes every SMTP command and reply of the connector to the protocol log; "
       "None writes nothing."},
  };
}

std::vector<CmdletHelp> TransportHelp() {
  std::vector<CmdletHelp> help;
  help.push_back(CmdletHelp{
      .name = "Get-ReceiveConnector",
      .synopsis = "Shows the SMTP receive connectors.",
      .description =
          "Shows a table of Name, Bindings and Enabled. Format-List shows every property "
          "with Exchange's names. Until a connector is first changed, the three defaults are "
          "in force: Client Frontend (587, STARTTLS then AUTH), Client TLS (465, implicit "
          "TLS) and Default Frontend (25, anonymous mail for the accepted domains).",
      .parameters =
          {
              {"Identity", "All connectors",
               std::string(kConnectorIdentityText) +
                   " Wildcards (Client*) list every connector that matches."},
              {"Server", "", "Accepted for Exchange's scripts and ignored."},
          },
      .examples =
          {
              {"Get-ReceiveConnector", "Lists the connectors."},
              {"Get-ReceiveConnector 'Client Frontend' | Format-List",
               "Shows every property of Client Frontend."},
          },
  });
  std::vector<ParameterHelp> new_parameters = ConnectorParameterHelp(true);
  new_parameters.insert(
      new_parameters.begin() + 2,
      ParameterHelp{"Usage", "Custom",
                    "The defaults the connector starts from: Client (authenticated submission "
                    "with relay: AuthMechanism Tls, BasicAuth, BasicAuthRequireTLS, "
                    "AuthRequired and RelayAllowed $true), Internet or Custom (anonymous mail "
                    "for the accepted domains, STARTTLS offered). Parameters given win."});
  new_parameters.push_back({"WhatIf", "", kTransportWhatIfText});
  help.push_back(CmdletHelp{
      .name = "New-ReceiveConnector",
      .synopsis = "Creates an SMTP receive connector.",
      .description =
          "Creates a connector and shows it. Every transportd opens its listeners at once; no "
          "restart is needed. -RemoteIPRanges and -PermissionGroups are not supported.",
      .parameters = std::move(new_parameters),
      .examples =
          {
              {"New-ReceiveConnector Partners -Bindings 0.0.0.0:2525 -RequireTLS $true",
               "Takes mail for the accepted domains on port 2525, over TLS only."},
              {"New-ReceiveConnector 'Submission 2' -Bindings 0.0.0.0:2587 -Usage Client",
               "A second submission port, like Client Frontend."},
          },
  });
  std::vector<ParameterHelp> set_parameters = ConnectorParameterHelp(false);
  set_parameters.insert(set_parameters.begin(),
                        ParameterHelp{"Identity", "", kConnectorIdentityText});
  set_parameters.push_back({"WhatIf", "", kTransportWhatIfText});
  help.push_back(CmdletHelp{
      .name = "Set-ReceiveConnector",
      .synopsis = "Changes an SMTP receive connector.",
      .description =
          "Changes only the properties that are given; with none, warns that nothing was "
          "modified. A change applies to the next connection on every node; no restart is "
          "needed.",
      .parameters = std::move(set_parameters),
      .examples =
          {
              {"Set-ReceiveConnector 'Client Frontend' -MaxMessageSize 50MB",
               "Takes messages up to 50 MB on port 587."},
              {"Get-ReceiveConnector | Set-ReceiveConnector -ProtocolLoggingLevel Verbose",
               "Logs the SMTP dialogue of every connector."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Remove-ReceiveConnector",
      .synopsis = "Deletes an SMTP receive connector.",
      .description = "Deletes the connector; every transportd closes its listeners. Asks for "
                     "confirmation first.",
      .parameters =
          {
              {"Identity", "", kConnectorIdentityText},
              {"Confirm", "$true",
               "-Confirm:$false removes without asking. Without it, adminctl asks on a "
               "terminal and refuses when standard input is not one."},
              {"WhatIf", "", kTransportWhatIfText},
          },
      .examples =
          {
              {"Remove-ReceiveConnector Partners -Confirm:$false",
               "Deletes Partners without asking."},
          },
  });
  constexpr char kSendConnectorIdentityText[] =
      "Outbound to smart hosts: the organisation's one send connector. Other names are not "
      "found.";
  help.push_back(CmdletHelp{
      .name = "Get-SendConnector",
      .synopsis = "Shows the send connector: the smart hosts mail goes to.",
      .description =
          "Mail to other domains goes through the smart hosts, tried in order; there is no "
          "MX lookup (DNSRoutingEnabled is False). Format-List shows SmartHosts, Port and "
          "RequireTLS. When the organisation has none, each transportd uses those of its "
          "configuration file, and a warning says so.",
      .parameters = {{"Identity", "Outbound to smart hosts", kSendConnectorIdentityText}},
      .examples = {{"Get-SendConnector | Format-List", "Shows the smart hosts."}},
  });
  help.push_back(CmdletHelp{
      .name = "Set-SendConnector",
      .synopsis = "Sets the smart hosts that outgoing mail goes to.",
      .description =
          "Replaces the smart hosts, or changes their port or TLS requirement. Messages "
          "already queued for the old smart host keep their queue until they are retried.",
      .parameters =
          {
              {"Identity", "Outbound to smart hosts", kSendConnectorIdentityText},
              {"SmartHosts", "",
               "Host names or IP addresses with an optional port: relay.example.net, "
               "relay.example.net:587, '[2001:db8::1]:25'. A list replaces them all; "
               "@{Add=...; Remove=...} adds and removes; $null removes every one."},
              {"Port", "25",
               "The port of the smart hosts whose port is not written in -SmartHosts, from 1 "
               "to 65535."},
              {"RequireTLS", "$false",
               "$true sends only over TLS: a smart host without STARTTLS is a failed "
               "attempt."},
              {"WhatIf", "", kTransportWhatIfText},
          },
      .examples =
          {
              {"Set-SendConnector -SmartHosts relay.example.net:587 -RequireTLS $true",
               "Sends everything through relay.example.net on port 587, over TLS."},
              {"Set-SendConnector -SmartHosts @{Add='backup.example.net'}",
               "Adds a second smart host, tried when the first cannot be reached."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Get-TransportService",
      .synopsis = "Shows the queue settings of the transport service.",
      .description =
          "Shows MessageExpirationTimeout: how long a message stays queued before it fails "
          "with a non-delivery report. The setting is the organisation's; the Name is this "
          "host's.",
      .parameters = {{"Identity", "", "Accepted for Exchange's scripts and ignored."}},
      .examples = {{"Get-TransportService", "Shows MessageExpirationTimeout."}},
  });
  help.push_back(CmdletHelp{
      .name = "Set-TransportService",
      .synopsis = "Sets how long messages stay queued.",
      .description = "Changes MessageExpirationTimeout on every transportd. It applies to messages "
                     "queued after the change.",
      .parameters =
          {
              {"Identity", "", "Accepted for Exchange's scripts and ignored."},
              {"MessageExpirationTimeout", "2.00:00:00",
               "How long a message may wait for delivery before it fails, as d.hh:mm:ss, "
               "from 00:01:00 to 90.00:00:00."},
              {"WhatIf", "", kTransportWhatIfText},
          },
      .examples = {{"Set-TransportService -MessageExpirationTimeout 3.00:00:00",
                    "Keeps trying for three days."}},
  });
  help.push_back(CmdletHelp{
      .name = "Get-TransportConfig",
      .synopsis = "Shows the organisation's transport settings.",
      .description =
          "Shows ExternalPostmasterAddress (empty: postmaster@<default accepted domain>) and "
          "SmtpClientAuthenticationDisabled.",
      .parameters = {},
      .examples = {{"Get-TransportConfig", "Shows the settings."}},
  });
  help.push_back(CmdletHelp{
      .name = "Set-TransportConfig",
      .synopsis = "Sets the postmaster address and SMTP AUTH default.",
      .description = "Changes only the settings that are given.",
      .parameters =
          {
              {"SmtpClientAuthenticationDisabled", "$false",
               "$true refuses SMTP AUTH for every mailbox whose own "
               "SmtpClientAuthenticationDisabled (Set-CASMailbox) is $null."},
              {"ExternalPostmasterAddress", "$null",
               "The From address of non-delivery reports. $null: postmaster@<default accepted "
               "domain>. -PostmasterAddress is accepted too."},
              {"WhatIf", "", kTransportWhatIfText},
          },
      .examples = {{"Set-TransportConfig -ExternalPostmasterAddress postmaster@example.test",
                    "Sends non-delivery reports from postmaster@example.test."}},
  });
  return help;
}

// ---------------------------------------------------------------------------------------------
// Add-/Get-/Remove-RecipientPermission

std::vector<CmdletHelp> RecipientPermissionHelp() {
  constexpr char kTrusteeText[] =
      "The mailbox that may send as -Identity: its name, any of its email addresses, its GUID "
      "or its id.";
  constexpr char kAccessRightsText[] =
      "SendAs, the only right: the trustee may use the mailbox's address in MAIL FROM and "
      "From: when it submits mail.";
  constexpr char kConfirmText[] =
      "-Confirm:$false goes ahead without asking. Without it, adminctl asks on a terminal and "
      "refuses when standard input is not one.";
  std::vector<CmdletHelp> help;
  help.push_back(CmdletHelp{
      .name = "Add-RecipientPermission",
      .synopsis = "Lets a mailbox send as another mailbox (SendAs).",
      .description =
          "Adds the primary address of -Identity to the addresses -Trustee may send as over "
          "SMTP submission. It applies to the trustee's next message.",
      .parameters =
          {
              {"Identity", "", kIdentityText},
              {"Trustee", "", kTrusteeText},
              {"AccessRights", "", kAccessRightsText},
              {"Confirm", "$true", kConfirmText},
          },
      .examples = {{"Add-RecipientPermission helpdesk -Trustee bob -AccessRights SendAs",
                    "Lets bob send as helpdesk."}},
  });
  help.push_back(CmdletHelp{
      .name = "Get-RecipientPermission",
      .synopsis = "Shows who may send as which mailbox.",
      .description = "Lists one row per grant: Identity, Trustee, AccessControlType and "
                     "AccessRights.",
      .parameters =
          {
              {"Identity", "Every mailbox", "Only grants on this mailbox."},
              {"Trustee", "Every mailbox", "Only grants to this mailbox."},
              {"AccessRights", "SendAs", kAccessRightsText},
          },
      .examples = {{"Get-RecipientPermission helpdesk", "Shows who may send as helpdesk."}},
  });
  help.push_back(CmdletHelp{
      .name = "Remove-RecipientPermission",
      .synopsis = "Takes a SendAs permission away.",
      .description = "Removes every address of -Identity from those -Trustee may send as.",
      .parameters =
          {
              {"Identity", "", kIdentityText},
              {"Trustee", "", kTrusteeText},
              {"AccessRights", "", kAccessRightsText},
              {"Confirm", "$true", kConfirmText},
          },
      .examples = {{"Remove-RecipientPermission helpdesk -Trustee bob -AccessRights SendAs "
                    "-Confirm:$false",
                    "bob may no longer send as helpdesk."}},
  });
  return help;
}

// ---------------------------------------------------------------------------------------------
// Queues and messages (transportd, --transport-endpoint)

std::vector<CmdletHelp> QueueHelp() {
  constexpr char kQueueText[] =
      "The queue, as Get-Queue shows it (mbx01\\relay.example.net:25, 'mbx01\\Mailbox "
      "Delivery') or by its next hop alone. A queue exists while messages wait for its next "
      "hop. Accepts pipeline input by property name.";
  constexpr char kMessageText[] =
      "The message, as Get-Message shows it (mbx01\\relay.example.net:25\\42) or by its id "
      "(42). Accepts pipeline input by property name.";
  std::vector<CmdletHelp> help;
  help.push_back(CmdletHelp{
      .name = "Get-Queue",
      .synopsis = "Shows transportd's delivery queues.",
      .description =
          "Shows one row per next hop with messages waiting: Identity, DeliveryType "
          "(SmtpRelayToSmartHost, SmtpDeliveryToMailbox), Status (Ready, Retry, Suspended), "
          "MessageCount, NextHopDomain and LastError. Asks transportd at --transport-endpoint.",
      .parameters = {{"Identity", "Every queue",
                      std::string(kQueueText) + " Wildcards (*relay*) are allowed."}},
      .examples = {{"Get-Queue", "Lists the queues."},
                   {"Get-Queue | Format-List", "Adds NextRetryTime."}},
  });
  help.push_back(CmdletHelp{
      .name = "Get-Message",
      .synopsis = "Shows queued messages.",
      .description =
          "Shows Identity, FromAddress, Status (Ready, Retry, Suspended, Failed), Size, SCL, "
          "Queue, MessageSourceName and Subject. Format-List adds each recipient's state and "
          "last reply, DateReceived, ExpirationTime, RetryCount, LastError and NextRetryTime.",
      .parameters =
          {
              {"Identity", "Every message", kMessageText},
              {"Queue", "Every queue", kQueueText},
          },
      .examples = {{"Get-Message -Queue 'Mailbox Delivery' | Format-List",
                    "Shows every message waiting for local delivery."}},
  });
  help.push_back(CmdletHelp{
      .name = "Retry-Queue",
      .synopsis = "Tries a queue's messages again now.",
      .description = "Moves the next attempt of the queue's messages to now; suspended "
                     "messages are left alone.",
      .parameters = {{"Identity", "Every queue", kQueueText}},
      .examples = {{"Retry-Queue mbx01\\relay.example.net:25", "Retries the smart host now."}},
  });
  help.push_back(CmdletHelp{
      .name = "Suspend-Queue",
      .synopsis = "Stops delivery from a queue.",
      .description = "Suspends every message of the queue until Resume-Queue. Messages "
                     "queued later are not suspended.",
      .parameters = {{"Identity", "", kQueueText}},
      .examples = {{"Suspend-Queue relay.example.net:25", "Holds the mail for the smart host."}},
  });
  help.push_back(CmdletHelp{
      .name = "Resume-Queue",
      .synopsis = "Resumes delivery from a suspended queue.",
      .description = "Resumes every suspended message of the queue and tries it now.",
      .parameters = {{"Identity", "", kQueueText}},
      .examples = {{"Resume-Queue relay.example.net:25", "Sends the held mail."}},
  });
  help.push_back(CmdletHelp{
      .name = "Suspend-Message",
      .synopsis = "Holds one queued message.",
      .description = "The message stays queued, and is not tried, until Resume-Message.",
      .parameters = {{"Identity", "", kMessageText}},
      .examples = {{"Suspend-Message 42", "Holds message 42."}},
  });
  help.push_back(CmdletHelp{
      .name = "Resume-Message",
      .synopsis = "Releases a suspended message.",
      .description = "The message is tried again now.",
      .parameters = {{"Identity", "", kMessageText}},
      .examples = {{"Get-Message | Resume-Message", "Releases every suspended message."}},
  });
  help.push_back(CmdletHelp{
      .name = "Remove-Message",
      .synopsis = "Deletes a queued message.",
      .description = "Deletes the message from the queue. Asks for confirmation first.",
      .parameters =
          {
              {"Identity", "", kMessageText},
              {"WithNDR", "$true",
               "$true sends the sender a non-delivery report for the recipients not yet "
               "delivered; $false deletes the message silently."},
              {"Confirm", "$true",
               "-Confirm:$false removes without asking. Without it, adminctl asks on a "
               "terminal and refuses when standard input is not one."},
          },
      .examples = {{"Remove-Message 42 -WithNDR $false -Confirm:$false",
                    "Deletes message 42 without telling the sender."}},
  });
  return help;
}

std::vector<CmdletHelp> AuditHelp() {
  return {CmdletHelp{
      .name = "Get-AdminAuditLog",
      .synopsis = "Shows the changes made over the admin API, newest first.",
      .description =
          "Every change an administrator makes (New-, Set-, Remove- cmdlets, Start-/Stop-"
          "Service, ...) is written by the mailbox store to its audit log before the cmdlet "
          "returns: when, who (the user running adminctl and how they connected), the cmdlet and "
          "its parameters (passwords shown as ***), the object, and the old and new values of "
          "what changed. Reading the log changes nothing.",
      .parameters =
          {
              {"StartDate", "The beginning", "Only changes made at or after this local date and "
                                              "time (2026-11-26 or \"2026-11-26 09:30\")."},
              {"EndDate", "Now", "Only changes made at or before this local date and time."},
              {"Cmdlets", "Every cmdlet", "Only changes made by this cmdlet (Set-CASMailbox)."},
              {"ObjectIds", "Every object",
               "Only changes to objects whose name contains this text (alice, PopSettings)."},
              {"ResultSize", "1000", "The most entries shown."},
          },
      .examples =
          {
              {"Get-AdminAuditLog -Cmdlets Set-PopSettings -ResultSize 5",
               "The last five changes to the POP3 settings, with old and new values."},
              {"Get-AdminAuditLog -ObjectIds alice | Format-Table RunDate,CmdletName,NewValue",
               "What was changed on alice's mailbox, one line per change."},
          },
  }};
}

// Test-ImapConnectivity, Test-PopConnectivity and Test-SmtpConnectivity.
CmdletHelp ConnectivityHelp(const std::string& cmdlet, const std::string& service,
                            const std::string& synopsis, const std::string& steps,
                            const std::string& last_step_text, const std::string& endpoints,
                            const std::string& example_endpoint) {
  CmdletHelp help{
      .name = cmdlet,
      .synopsis = synopsis,
      .description =
          "Tests every endpoint that the nodes report for " + service + " (Get-Service " + service +
          " | Format-List shows them in Endpoints) as a mail client would, and shows one row "
          "per step: Server (the node), Endpoint, Step, Result (Success, Failure, Warning or "
          "Skipped), Latency and Detail. Format-List adds Service, Address (where it "
          "connected) and UserName.\n" +
          steps +
          "\n"
          "A failed step skips the rest of its endpoint. The line then fails (adminctl exits "
          "with status 1) and an error names each endpoint that failed; Warnings do not fail "
          "it. A node where the service is stopped, or that reports no endpoint, shows a "
          "Service row with Result Failure.\n"
          "The password is sent only once TLS is active, and is never printed or logged.",
      .parameters =
          {
              {"Server", "Every node",
               "The node to test, as Get-Service shows it in MachineName; wildcards allowed "
               "(cas*). -ClientAccessServer and -ComputerName are accepted too."},
              {"MailboxCredential", "",
               "The user to log in as: the mailbox's name or address. -User is accepted too. "
               "Exchange takes a PSCredential here; adminctl takes the user name and the "
               "password from -Password."},
              {"Password", "",
               "The user's password, as text or as (ConvertTo-SecureString -String '...' "
               "-AsPlainText -Force). Leave it out to be asked for it, without echo, on a "
               "terminal."},
              {"Endpoint", "Every endpoint the nodes report",
               "Tests this endpoint only, written as the nodes report it (" + endpoints +
                   "). It need not be one a node reports: a name behind a load balancer can "
                   "be tested too."},
              {"Host", "127.0.0.1 for 0.0.0.0, ::1 for [::]",
               "Where to connect for an endpoint bound to a wildcard address (0.0.0.0 or "
               "[::]), for example the node's DNS name when testing from another machine. "
               "Other addresses are used as reported. A DNS name is also checked against the "
               "certificate."},
              {"LightMode", "", "Logs in only: the " + last_step_text + " step is skipped."},
              {"TrustAnyCertificate", "",
               "Accepts any certificate: the Certificate step is a Success even when the "
               "certificate is self-signed, expired or for another name. Without it, such a "
               "certificate is a Warning (\"certificate not trusted: self-signed for "
               "mail.example.test\"), not a Failure, because a new server has a self-signed "
               "certificate until one is installed. -TrustAnySSLCertificate is accepted too."},
              {"Timeout", "10",
               "How many seconds each step may take, from 1 to 3600. "
               "-PerConnectionTimeout is accepted too."},
          },
      .examples =
          {
              {cmdlet + " -MailboxCredential alice -Password 'S3cret!pass'",
               "Tests every " + service + " endpoint on every node as alice."},
              {cmdlet + " cas01 -User alice -Endpoint " + example_endpoint + " -LightMode",
               "Tests one endpoint on the node cas01, logging in only."},
              {cmdlet + " -User alice -Password 'S3cret!pass' | Format-List",
               "Shows every property of each row, including Address and UserName."},
          },
  };
  return help;
}

std::vector<CmdletHelp> ConnectivityHelps() {
  std::vector<CmdletHelp> help;
  help.push_back(ConnectivityHelp(
      "Test-ImapConnectivity", "IMAP4", "Tests IMAP4 logins on every IMAP4 endpoint.",
      "The steps: TCP (connect; on imap:// also the greeting), TLS (imaps:// handshake, or "
      "STARTTLS on imap://), Certificate, Capability (the CAPABILITY list), Login (LOGIN), "
      "Read (EXAMINE INBOX: how many messages it holds), then LOGOUT.",
      "Read", "imaps://127.0.0.1:993, imap://0.0.0.0:143", "imap://0.0.0.0:143"));
  help.push_back(ConnectivityHelp(
      "Test-PopConnectivity", "POP3", "Tests POP3 logins on every POP3 endpoint.",
      "The steps: TCP (connect; on pop3:// also the greeting), TLS (pop3s:// handshake, or "
      "STLS on pop3://), Certificate, Capability (the CAPA list), Login (USER and PASS), Read "
      "(STAT: how many messages the maildrop holds), then QUIT.",
      "Read", "pop3s://127.0.0.1:995, pop3://0.0.0.0:110", "pop3s://127.0.0.1:995"));
  CmdletHelp smtp = ConnectivityHelp(
      "Test-SmtpConnectivity", "SMTP", "Tests SMTP submission on every receive connector.",
      "The steps: TCP (connect; on smtp:// also the greeting), TLS (smtps:// handshake, or "
      "STARTTLS on smtp:// when the connector offers it; a Warning when it does not), "
      "Certificate, Capability (the EHLO keywords), Login (AUTH PLAIN; Skipped on a "
      "connector that offers no AUTH, such as Default Frontend on port 25), Send (MAIL FROM "
      "and RCPT TO the user's own primary address, then RSET: no message is sent unless "
      "-SendTestMessage is given; without a login MAIL FROM is the null sender <>, since "
      "the server takes no address of its own domains from anonymous senders), then QUIT.",
      "Send", "smtps://127.0.0.1:465 Client TLS, smtp://[::]:587 Client Frontend",
      "smtp://0.0.0.0:587");
  smtp.parameters.push_back(
      {"SendTestMessage", "",
       "Sends a short test message to the user's own address instead of stopping at RCPT TO "
       "(with RSET). It is delivered like any other message."});
  help.push_back(std::move(smtp));
  return help;
}

// Get-LogonFailure, Get-BlockedClient and Clear-BlockedClient.
std::vector<CmdletHelp> LogonHelp() {
  constexpr char kRules[] =
      "The mailbox store counts failed logins of POP3, IMAP4 and SMTP on every node, per client "
      "address and per mailbox, over the last 15 minutes. An address with 5 failures is "
      "refused for 60 seconds after its last failure, twice as long for each further failure, "
      "up to 15 minutes (ClientAddress rule). A mailbox with 10 failures from addresses that "
      "have not logged in to it refuses such addresses the same way (Mailbox rule), and its "
      "owner gets a notice in the Inbox (at most one an hour); an address that logged in to "
      "the mailbox within the last 30 days is never refused by this rule, so the owner is not "
      "locked out. Both lift by themselves. The counts are kept in memory: a restart of the "
      "mailbox store forgets them. Networks listed in login_throttle_exempt in the store's "
      "configuration are neither counted nor refused.";
  std::vector<CmdletHelp> help;
  help.push_back(CmdletHelp{
      .name = "Get-LogonFailure",
      .synopsis = "Shows recent failed logins, per address, user and protocol.",
      .description =
          std::string(kRules) +
          "\n"
          "Shows one row per client address, user and protocol with failures in the last 15 "
          "minutes: LastFailure, Protocol, ClientAddress, User (the mailbox, or the name typed "
          "when no mailbox has it) and Count. Format-List adds FirstFailure. Newest first. "
          "Attempts refused while blocked are not failures and are not counted.",
      .parameters =
          {
              {"Identity", "Every user",
               "Only failures for this mailbox: its name, any of its email addresses, its GUID "
               "or its id; or a name that no mailbox has, as it was typed."},
              {"ClientAddress", "Every address", "Only failures from this IP address."},
          },
      .examples =
          {
              {"Get-LogonFailure", "Every failed login of the last 15 minutes."},
              {"Get-LogonFailure -Identity alice", "Who tried to log in to alice, and how."},
              {"Get-LogonFailure -ClientAddress 192.0.2.7 | Format-List",
               "What 192.0.2.7 tried, with the time of its first failure."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Get-BlockedClient",
      .synopsis = "Shows who is refused now for too many failed logins.",
      .description =
          std::string(kRules) +
          "\n"
          "Shows one row per block in force: Identity (the address, or the mailbox), Rule "
          "(ClientAddress or Mailbox), Failures, BlockedUntil and RetryAfter. Format-List adds "
          "Reason and, for the Mailbox rule, ClientAddresses (where the failures came from). "
          "Refused clients are told \"Too many failed logins; try again in N seconds\" "
          "(POP3 -ERR [LOGIN-DELAY], IMAP4 NO [UNAVAILABLE], SMTP 421 4.7.0).",
      .parameters = {},
      .examples =
          {
              {"Get-BlockedClient", "Every address and mailbox refused now, and until when."},
              {"Get-BlockedClient | Format-List", "The same with the reason of each block."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Clear-BlockedClient",
      .synopsis = "Forgets failed logins so that blocked clients may log in.",
      .description =
          "Forgets the failed logins of an address, or for a mailbox, or all of them, on every "
          "node at once, and so lifts the blocks they caused (see Get-BlockedClient). Which "
          "addresses a mailbox trusts is kept, and the owner is not told again within the "
          "hour. A warning says so when nothing was recorded. Every use is written to the "
          "admin audit log with the blocks it lifted.",
      .parameters =
          {
              {"Identity", "",
               "The mailbox whose failures are forgotten: its name, any of its email "
               "addresses, its GUID or its id. Also forgets these failures in the counts of "
               "the addresses they came from. Rows of Get-BlockedClient can be piped in: a "
               "ClientAddress row clears that address, a Mailbox row that mailbox."},
              {"ClientAddress", "",
               "The IP address whose failures are forgotten, for every mailbox."},
              {"All", "", "Forgets every failed login."},
          },
      .examples =
          {
              {"Clear-BlockedClient -ClientAddress 192.0.2.7",
               "Lets 192.0.2.7 log in again at once."},
              {"Clear-BlockedClient alice", "Lifts the Mailbox rule for alice."},
              {"Get-BlockedClient | Clear-BlockedClient", "Lifts every block."},
              {"Clear-BlockedClient -All", "Forgets every failed login."},
          },
  });
  return help;
}

constexpr char kThumbprintText[] =
    "The certificate's thumbprint: the SHA-1 hash of the certificate as 40 hexadecimal digits, "
    "as Get-ExchangeCertificate shows it (case, spaces and colons do not matter). Accepts "
    "pipeline input by property name, so certificates that Get-ExchangeCertificate lists can "
    "be piped in.";

std::vector<CmdletHelp> CertificateHelp() {
  std::vector<CmdletHelp> help;
  help.push_back(CmdletHelp{
      .name = "Get-ExchangeCertificate",
      .synopsis = "Shows the TLS certificates the servers hold.",
      .description =
          "Shows the certificates held by the mailbox store for every casd and transportd "
          "node: a table of Thumbprint, Services (the services it is enabled for: IMAP, POP, "
          "SMTP, or None) and Subject. Pipe it to Format-List to see CertificateDomains, "
          "Issuer, NotBefore, NotAfter, IsSelfSigned, Status and the rest. The newest "
          "certificate comes first.\n"
          "Private keys are never shown and never leave the store through this cmdlet.",
      .parameters =
          {
              {"Thumbprint", "All certificates",
               "Only the certificate with this thumbprint (40 hexadecimal digits); an error "
               "when there is none."},
              {"DomainName", "",
               "Only the certificates that cover this host name, by an exact or a wildcard "
               "(*.example.test) name: the candidates a client that asks for this name can "
               "get."},
          },
      .examples =
          {
              {"Get-ExchangeCertificate", "Lists every certificate."},
              {"Get-ExchangeCertificate -DomainName mail.example.test | Format-List",
               "Every detail of the certificates for mail.example.test, with their expiry "
               "dates."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "New-ExchangeCertificate",
      .synopsis = "Makes a self-signed certificate in the store.",
      .description =
          "Makes a self-signed certificate (ECDSA P-256 key, SHA-256 signature, valid for 5 "
          "years) and keeps it, with its key, in the mailbox store. Mail clients do not trust "
          "a self-signed certificate unless the user accepts it; import one from a "
          "certificate authority (Import-ExchangeCertificate) for production.\n"
          "Unlike Exchange, which also enables a new self-signed certificate for SMTP, the "
          "certificate serves nothing until -Services or Enable-ExchangeCertificate says so.",
      .parameters =
          {
              {"SubjectName", "CN=<first domain name>",
               "The subject, as an X.500 name: \"CN=mail.example.test\", or with more parts "
               "such as \"CN=mail.example.test, O=Example, C=US\"."},
              {"DomainName", "The CN of -SubjectName",
               "The host names the certificate is for (its SubjectAltName), separated by "
               "commas: mail.example.test,autodiscover.example.test. A leading *. makes a "
               "wildcard name."},
              {"Services", "None",
               "The services it serves at once: IMAP, POP, SMTP, separated by commas, or "
               "None."},
              {"FriendlyName", "Microsoft Exchange", "A label shown by Get-ExchangeCertificate."},
          },
      .examples =
          {
              {"New-ExchangeCertificate -SubjectName \"CN=mail.example.test\" -DomainName "
               "mail.example.test,imap.example.test -Services IMAP,POP",
               "Makes a certificate for two names and serves it on IMAP and POP."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Import-ExchangeCertificate",
      .synopsis = "Imports a PEM certificate and its private key.",
      .description =
          "Reads a PEM certificate chain (the server certificate, then its intermediates) and "
          "its private key, and keeps them in the mailbox store for every node. The key is "
          "taken from -PrivateKeyFile, or from the certificate file when both are in one "
          "file. The files are read by adminctl on this computer.\n"
          "Refused with an error: a file without a certificate, no private key, an encrypted "
          "key, a key that does not belong to the certificate, a certificate that has "
          "expired, and a certificate already imported. A PFX file must first be converted "
          "to PEM (openssl pkcs12 -in cert.pfx -nodes -out cert.pem).\n"
          "The certificate serves nothing until Enable-ExchangeCertificate enables it.",
      .parameters =
          {
              {"FileName", "",
               "The PEM file with the certificate chain, and optionally the private key."},
              {"PrivateKeyFile", "The key in -FileName",
               "The PEM file with the unencrypted private key (PKCS#8, RSA or EC)."},
              {"FriendlyName", "", "A label shown by Get-ExchangeCertificate."},
          },
      .examples =
          {
              {"Import-ExchangeCertificate -FileName /etc/ssl/mail.pem -PrivateKeyFile "
               "/etc/ssl/private/mail.key",
               "Imports a certificate and its key."},
              {"Import-ExchangeCertificate mail-with-key.pem | Enable-ExchangeCertificate "
               "-Services IMAP,POP,SMTP",
               "Imports a certificate and enables it for every service."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Enable-ExchangeCertificate",
      .synopsis = "Serves a certificate on IMAP, POP or SMTP.",
      .description =
          "Enables a certificate for services. The next TLS handshake of those services on "
          "every casd and transportd node uses it (993 and STARTTLS on 143 for IMAP, 995 and "
          "STLS on 110 for POP, 465 and STARTTLS on every receive connector for SMTP), with no "
          "restart; connections already open keep their certificate.\n"
          "As in Exchange, the services are added to those the certificate already has. "
          "Several certificates may be enabled for one service: the server picks the one "
          "whose names (CertificateDomains) match the host name the client asks for (SNI), an "
          "exact name before a wildcard, and the most recent one (latest NotBefore) for "
          "clients that ask for no name or a name none has. When no certificate is enabled "
          "for a service, each node serves its own certificate file (certificate_file in its "
          "configuration, or the self-signed one it made).",
      .parameters =
          {
              {"Thumbprint", "", kThumbprintText},
              {"Services", "",
               "IMAP, POP and/or SMTP, separated by commas. None disables the certificate for "
               "every service (it stays in the store)."},
          },
      .examples =
          {
              {"Enable-ExchangeCertificate -Thumbprint 5113AE0233A72FCCB75D1B9BCB7C1CDD3F1A1CFC "
               "-Services IMAP,POP",
               "Serves the certificate on IMAP and POP."},
              {"Enable-ExchangeCertificate 5113AE0233A72FCCB75D1B9BCB7C1CDD3F1A1CFC -Services "
               "None",
               "Stops serving it anywhere."},
          },
  });
  help.push_back(CmdletHelp{
      .name = "Remove-ExchangeCertificate",
      .synopsis = "Removes a certificate and its key from the store.",
      .description =
          "Removes a certificate and its private key from the mailbox store. A certificate "
          "that is enabled for a service is kept, with an error naming the services, unless "
          "-Force is given: enable another certificate for those services first (Exchange "
          "only warns here; refusing keeps clients from being surprised by another "
          "certificate). Connections already open keep their certificate.",
      .parameters =
          {
              {"Thumbprint", "", kThumbprintText},
              {"Force", "",
               "Removes the certificate even when it is enabled for a service; those services "
               "then use the next enabled certificate, or each node's own certificate file."},
              {"Confirm", "$true",
               "Asks before removing. -Confirm:$false removes without asking (needed when "
               "standard input is not a terminal)."},
          },
      .examples =
          {
              {"Remove-ExchangeCertificate 5113AE0233A72FCCB75D1B9BCB7C1CDD3F1A1CFC "
               "-Confirm:$false",
               "Removes a certificate that no service uses."},
          },
  });
  return help;
}

}  // namespace

const std::vector<CmdletHelp>& AllCmdletHelp() {
  static const std::vector<CmdletHelp>* all = [] {
    auto* help = new std::vector<CmdletHelp>();
    for (auto family : {MailboxHelp(), CasMailboxHelp(), ServiceHelp(), FormatHelp(),
                        HelpCmdletsHelp(), TransportHelp(), RecipientPermissionHelp(), QueueHelp(),
                        AuditHelp(), ConnectivityHelps(), LogonHelp(), CertificateHelp()}) {
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
