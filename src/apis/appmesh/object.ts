/** The shape of an App Mesh object of either API version. */
import type { ObjectMeta } from '../../kube/objects.ts';

export interface AppMeshObject<V extends string, K extends string, S> {
  readonly apiVersion: V;
  readonly kind: K;
  readonly metadata: ObjectMeta;
  readonly spec: S;
  readonly [field: string]: unknown;
}
