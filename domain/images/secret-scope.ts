// Which Secrets an image update may read credentials from. The credentials go to a registry
// or git host that the Application's author chooses (the image name, git-repository), so a
// Secret named by an Application may only be one of its own namespace; an Application in the
// control plane's namespace (made by whoever runs Argo CD there) and the control plane's
// registries.conf may name any. Image Updater reads any Secret it is named.

export interface SecretNamer {
  /** The namespace of the Application the update is for. */
  appNamespace: string;
  /** The control plane's namespace (argocd-cm's). */
  controlPlaneNamespace: string;
  /** The namespace of the registries.conf that named the Secret, when it was that file and not an annotation. */
  configNamespace?: string;
}

/** Why the Secret may not be read for this Application; undefined when it may. */
export function secretRefusal(secretNamespace: string, secretName: string, by: SecretNamer): string | undefined {
  const trusted = by.configNamespace ?? by.appNamespace;
  if (trusted === by.controlPlaneNamespace || secretNamespace === trusted) return undefined;
  return (
    `Secret ${secretNamespace}/${secretName} refused: credentials for an Application in namespace ${by.appNamespace} ` +
    `come from Secrets of ${trusted} (or from the control plane's ${by.controlPlaneNamespace} configuration)`
  );
}
