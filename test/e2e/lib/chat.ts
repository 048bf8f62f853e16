// The chat payloads Flagger sends, as the e2e tests expect them, and how to read one back.

/** One alert field (`Target`, `Failed checks threshold`, …). */
export interface Field {
  readonly name: string;
  readonly value: string;
}

/** Flagger's Slack-format message (Slack, Discord, Rocket.Chat); `username` defaults to `flagger`. */
export function slackLike(o: {
  channel: string;
  username?: string;
  color: string;
  subject: string;
  text: string;
  fields: readonly Field[];
}) {
  return {
    channel: o.channel,
    username: o.username ?? 'flagger',
    icon_url: '',
    icon_emoji: ':rocket:',
    attachments: [
      {
        color: o.color,
        author_name: o.subject,
        text: o.text,
        mrkdwn_in: ['text'],
        fields: o.fields.map((f) => ({ title: f.name, value: f.value, short: false })),
      },
    ],
  };
}

/** Flagger's MS Teams MessageCard. */
export function teams(o: { color: string; subject: string; text: string; fields: readonly Field[] }) {
  return {
    '@type': 'MessageCard',
    '@context': 'http://schema.org/extensions',
    themeColor: o.color,
    summary: o.subject,
    sections: [{ activityTitle: o.text, activitySubtitle: o.subject, facts: o.fields }],
  };
}

/** Flagger's Google Chat card. */
export function gchat(o: { subject: string; text: string; fields: readonly Field[] }) {
  const section = (text: string) => ({ widgets: [{ textParagraph: { text } }] });
  return {
    cards: [
      {
        header: { title: 'Flagger', subtitle: o.subject, imageUrl: 'https://flagger.app/favicon.png' },
        sections: [
          section(`<font color=#848484><strong>${o.text}</strong></font>`),
          ...o.fields.map((f) => section(`${f.name}<br><font color=#848484><strong>${f.value}</strong></font>`)),
        ],
      },
    ],
  };
}

/** The text of a received chat message, whatever its format. */
export function textOf(body: unknown): string {
  const b = body as {
    attachments?: { text?: string }[];
    sections?: { activityTitle?: string }[];
    cards?: { sections?: { widgets?: { textParagraph?: { text?: string } }[] }[] }[];
  };
  return (
    b.attachments?.[0]?.text ??
    b.sections?.[0]?.activityTitle ??
    b.cards?.[0]?.sections?.[0]?.widgets?.[0]?.textParagraph?.text ??
    ''
  );
}
