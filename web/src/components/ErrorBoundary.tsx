import { Component, type ReactNode } from 'react';
import { ErrorState } from './States';

/** A page that throws shows what went wrong instead of a blank screen; navigating elsewhere resets it. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey: string }, { error: unknown; key: string }> {
  state = { error: null as unknown, key: this.props.resetKey };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  static getDerivedStateFromProps(props: { resetKey: string }, state: { error: unknown; key: string }) {
    return props.resetKey === state.key ? null : { error: null, key: props.resetKey };
  }

  render() {
    if (this.state.error) return <ErrorState error={this.state.error} retry={() => this.setState({ error: null })} />;
    return this.props.children;
  }
}
